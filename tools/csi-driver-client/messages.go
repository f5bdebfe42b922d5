package main

// The provider interface's messages (sigs.k8s.io/secrets-store-csi-driver provider/v1alpha1/service.proto),
// described in Go and used through dynamicpb. This keeps the client free of protoc and of the driver
// module (whose dependency monis.app/mlog the module proxy refuses), while the bytes on the wire are
// those of the driver's generated code: same package, message and field names, numbers and types.

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const serviceName = "v1alpha1.CSIDriverProvider"

type fieldSpec struct {
	name     string
	number   int32
	kind     descriptorpb.FieldDescriptorProto_Type
	message  string // for TYPE_MESSAGE: the message name in package v1alpha1
	repeated bool
}

func message(name string, fields ...fieldSpec) *descriptorpb.DescriptorProto {
	out := &descriptorpb.DescriptorProto{Name: proto.String(name)}
	for _, f := range fields {
		label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		if f.repeated {
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		}
		field := &descriptorpb.FieldDescriptorProto{
			Name:     proto.String(f.name),
			JsonName: proto.String(jsonName(f.name)),
			Number:   proto.Int32(f.number),
			Label:    label.Enum(),
			Type:     f.kind.Enum(),
		}
		if f.message != "" {
			field.TypeName = proto.String(".v1alpha1." + f.message)
		}
		out.Field = append(out.Field, field)
	}
	return out
}

// jsonName is protoc's lowerCamelCase of a field name (target_path → targetPath).
func jsonName(name string) string {
	out := make([]byte, 0, len(name))
	upper := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' {
			upper = true
			continue
		}
		if upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		out = append(out, c)
	}
	return string(out)
}

// Messages are the provider interface's message descriptors, by name.
type Messages map[string]protoreflect.MessageDescriptor

func loadMessages() (Messages, error) {
	const (
		str   = descriptorpb.FieldDescriptorProto_TYPE_STRING
		i32   = descriptorpb.FieldDescriptorProto_TYPE_INT32
		bytes = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		msg   = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("v1alpha1/service.proto"),
		Package: proto.String("v1alpha1"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			message("VersionRequest", fieldSpec{name: "version", number: 1, kind: str}),
			message("VersionResponse",
				fieldSpec{name: "version", number: 1, kind: str},
				fieldSpec{name: "runtime_name", number: 2, kind: str},
				fieldSpec{name: "runtime_version", number: 3, kind: str}),
			message("MountRequest",
				fieldSpec{name: "attributes", number: 1, kind: str},
				fieldSpec{name: "secrets", number: 2, kind: str},
				fieldSpec{name: "target_path", number: 3, kind: str},
				fieldSpec{name: "permission", number: 4, kind: str},
				fieldSpec{name: "current_object_version", number: 5, kind: msg, message: "ObjectVersion", repeated: true}),
			message("MountResponse",
				fieldSpec{name: "object_version", number: 1, kind: msg, message: "ObjectVersion", repeated: true},
				fieldSpec{name: "error", number: 2, kind: msg, message: "Error"},
				fieldSpec{name: "files", number: 3, kind: msg, message: "File", repeated: true}),
			message("File",
				fieldSpec{name: "path", number: 1, kind: str},
				fieldSpec{name: "mode", number: 2, kind: i32},
				fieldSpec{name: "contents", number: 3, kind: bytes}),
			message("ObjectVersion",
				fieldSpec{name: "id", number: 1, kind: str},
				fieldSpec{name: "version", number: 2, kind: str}),
			message("Error", fieldSpec{name: "code", number: 1, kind: str}),
		},
	}
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		return nil, fmt.Errorf("building the v1alpha1 descriptors: %w", err)
	}
	out := Messages{}
	for i := 0; i < fd.Messages().Len(); i++ {
		md := fd.Messages().Get(i)
		out[string(md.Name())] = md
	}
	return out, nil
}

func (m Messages) new(name string) *dynamicpb.Message {
	return dynamicpb.NewMessage(m[name])
}

func setString(msg *dynamicpb.Message, field, value string) {
	msg.Set(msg.Descriptor().Fields().ByName(protoreflect.Name(field)), protoreflect.ValueOfString(value))
}

func getString(msg protoreflect.Message, field string) string {
	return msg.Get(msg.Descriptor().Fields().ByName(protoreflect.Name(field))).String()
}

func getList(msg protoreflect.Message, field string) protoreflect.List {
	return msg.Get(msg.Descriptor().Fields().ByName(protoreflect.Name(field))).List()
}
