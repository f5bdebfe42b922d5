// csi-driver-client calls a Secrets Store CSI Driver provider the way the driver v1.5.4 does, so the
// provider can be tested against grpc-go's real behaviour on its unix socket (most of all: grpc-go
// sends the socket path as the HTTP/2 :authority, which a friendly test client never does).
//
// What is the driver's (pkg/secrets-store/provider_client.go, nodeserver.go, cmd/.../main.go at v1.5.4):
//   - the socket is <provider-volume>/<provider>.sock, the name checked against ^[a-zA-Z0-9_-]{0,30}$
//     and the file stat'ed before dialling;
//   - grpc.Dial(socketPath, …) with, in this order: WithDefaultCallOptions(MaxCallRecvMsgSize(4 MiB)),
//     insecure transport credentials, a context dialer that dials "unix" to the target, and the
//     driver's default service config (waitForReady, 3 attempts on UNAVAILABLE);
//   - one ClientConn reused for every call;
//   - Version sends {version: "v1alpha1"} with a 5 s deadline (the driver's health check);
//   - Mount sends attributes = json.Marshal(map[string]string), secrets = json.Marshal of the
//     nodePublishSecretRef map ("null" when there is none), permission = json.Marshal(os.FileMode(0644))
//     ("420"), the target path, and the current object versions (the rotation reconciler's);
//   - a response with error.code set fails; one without object versions fails ("missing object
//     versions"); files are checked with the driver's path rules before they are written.
//
// What differs: files are written in place (the driver uses the kubelet's atomic writer with a
// ..data symlink); that does not change what the provider is asked or answers.
//
// Usage:
//
//	csi-driver-client -provider-volume DIR [-provider vault] [-attributes-file F] [-secrets-file F]
//	  [-target-path DIR] [-current-object-versions JSON] [-write] [-timeout 30s] CALL...
//
// CALL is version or mount; calls run in order on one connection. Each prints one JSON line.
// Exit status: 0 all calls succeeded, 3 a call failed (the line says how), 2 usage, 1 other errors.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// serviceConfig is the driver's ServiceConfig constant, verbatim in meaning.
const serviceConfig = `
{
	"methodConfig": [
		{
			"name": [{"service": "v1alpha1.CSIDriverProvider"}],
			"waitForReady": true,
			"retryPolicy": {
				"MaxAttempts": 3,
				"InitialBackoff": "1s",
				"MaxBackoff": "10s",
				"BackoffMultiplier": 1.1,
				"RetryableStatusCodes": [ "UNAVAILABLE" ]
			}
		}
	]
}
`

// The driver's limits on written paths (pkg/util/fileutil).
const (
	maxFileNameLength = 255
	maxPathLength     = 4096
)

var pluginNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{0,30}$`)

// filePermission is the driver's FilePermission (os.FileMode(0644)).
const filePermission = os.FileMode(0644)

type options struct {
	providerVolume        string
	provider              string
	attributesFile        string
	secretsFile           string
	targetPath            string
	currentObjectVersions string
	write                 bool
	timeout               time.Duration
	maxCallRecvMsgSize    int
}

type outputFile struct {
	Path     string `json:"path"`
	Mode     int32  `json:"mode"`
	Contents string `json:"contents"` // base64
}

type result struct {
	Call           string            `json:"call"`
	OK             bool              `json:"ok"`
	Code           string            `json:"code,omitempty"`
	Message        string            `json:"message,omitempty"`
	RuntimeName    string            `json:"runtimeName,omitempty"`
	RuntimeVersion string            `json:"runtimeVersion,omitempty"`
	Version        string            `json:"version,omitempty"`
	ObjectVersions map[string]string `json:"objectVersions,omitempty"`
	Files          []outputFile      `json:"files,omitempty"`
	Written        bool              `json:"written,omitempty"`
	Milliseconds   float64           `json:"ms"`
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("csi-driver-client", flag.ContinueOnError)
	fs.StringVar(&o.providerVolume, "provider-volume", "/var/run/secrets-store-csi-providers", "directory holding <provider>.sock (the driver's --provider-volume)")
	fs.StringVar(&o.provider, "provider", "vault", "provider name (the SecretProviderClass spec.provider)")
	fs.StringVar(&o.attributesFile, "attributes-file", "", "JSON object of strings: SPC parameters overlaid with the volume context (- for stdin)")
	fs.StringVar(&o.secretsFile, "secrets-file", "", "JSON object of strings: nodePublishSecretRef data (none: \"null\" is sent, as the driver does)")
	fs.StringVar(&o.targetPath, "target-path", "", "the volume's target path")
	fs.StringVar(&o.currentObjectVersions, "current-object-versions", "", "JSON object id → version, as the rotation reconciler sends")
	fs.BoolVar(&o.write, "write", false, "write the returned files under -target-path after the driver's path checks")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "deadline of each Mount call")
	fs.IntVar(&o.maxCallRecvMsgSize, "max-call-recv-msg-size", 1024*1024*4, "maximum size in bytes of gRPC response from plugins (the driver's flag and default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	calls := fs.Args()
	if len(calls) == 0 {
		fmt.Fprintln(os.Stderr, "csi-driver-client: name at least one call: version, mount")
		return 2
	}
	for _, call := range calls {
		if call != "version" && call != "mount" {
			fmt.Fprintf(os.Stderr, "csi-driver-client: unknown call %q (known: version, mount)\n", call)
			return 2
		}
	}
	messages, err := loadMessages()
	if err != nil {
		fmt.Fprintln(os.Stderr, "csi-driver-client:", err)
		return 1
	}
	conn, err := dial(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "csi-driver-client:", err)
		return 1
	}
	defer conn.Close()

	exit := 0
	encoder := json.NewEncoder(os.Stdout)
	for _, call := range calls {
		var r result
		switch call {
		case "version":
			r = callVersion(conn, messages)
		case "mount":
			r, err = callMount(conn, messages, o)
			if err != nil {
				fmt.Fprintln(os.Stderr, "csi-driver-client:", err)
				return 1
			}
		}
		if !r.OK {
			exit = 3
		}
		if err := encoder.Encode(r); err != nil {
			return 1
		}
	}
	return exit
}

// dial is PluginClientBuilder.Get: the socket path checked, then grpc.Dial with the driver's options.
func dial(o options) (*grpc.ClientConn, error) {
	if !pluginNameRe.MatchString(o.provider) {
		return nil, fmt.Errorf("invalid provider: provider %q", o.provider)
	}
	socketPath := filepath.Join(o.providerVolume, o.provider+".sock")
	if _, err := os.Stat(socketPath); err != nil {
		return nil, fmt.Errorf("provider not found: provider %q", o.provider)
	}
	opts := []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(o.maxCallRecvMsgSize)),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, target string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", target)
		}),
		grpc.WithDefaultServiceConfig(serviceConfig),
	}
	return grpc.Dial(socketPath, opts...)
}

func failure(r result, err error) result {
	st, _ := status.FromError(err)
	r.OK = false
	r.Code = st.Code().String()
	r.Message = st.Message()
	return r
}

func callVersion(conn *grpc.ClientConn, messages Messages) result {
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := messages.new("VersionRequest")
	setString(req, "version", "v1alpha1")
	resp := messages.new("VersionResponse")
	r := result{Call: "version"}
	err := conn.Invoke(ctx, "/"+serviceName+"/Version", req, resp)
	r.Milliseconds = float64(time.Since(started).Microseconds()) / 1000
	if err != nil {
		return failure(r, err)
	}
	r.OK = true
	r.Version = getString(resp, "version")
	r.RuntimeName = getString(resp, "runtime_name")
	r.RuntimeVersion = getString(resp, "runtime_version")
	return r
}

func readStringMap(file string) (map[string]string, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	var out map[string]string
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON object of strings: %w", file, err)
	}
	return out, nil
}

// callMount is nodeServer.mountSecretsStoreObjectContent + MountContent.
func callMount(conn *grpc.ClientConn, messages Messages, o options) (result, error) {
	r := result{Call: "mount"}
	parameters := map[string]string{}
	if o.attributesFile != "" {
		var err error
		if parameters, err = readStringMap(o.attributesFile); err != nil {
			return r, err
		}
	}
	var secrets map[string]string
	if o.secretsFile != "" {
		var err error
		if secrets, err = readStringMap(o.secretsFile); err != nil {
			return r, err
		}
	}
	attributes, err := json.Marshal(parameters)
	if err != nil {
		return r, err
	}
	secretStr, err := json.Marshal(secrets)
	if err != nil {
		return r, err
	}
	permission, err := json.Marshal(filePermission)
	if err != nil {
		return r, err
	}
	current := map[string]string{}
	if o.currentObjectVersions != "" {
		if err := json.Unmarshal([]byte(o.currentObjectVersions), &current); err != nil {
			return r, fmt.Errorf("-current-object-versions: expected a JSON object of strings: %w", err)
		}
	}

	req := messages.new("MountRequest")
	setString(req, "attributes", string(attributes))
	setString(req, "secrets", string(secretStr))
	setString(req, "target_path", o.targetPath)
	setString(req, "permission", string(permission))
	versions := req.Mutable(req.Descriptor().Fields().ByName("current_object_version")).List()
	for id, version := range current {
		ov := messages.new("ObjectVersion")
		setString(ov, "id", id)
		setString(ov, "version", version)
		versions.Append(protoreflect.ValueOfMessage(ov))
	}

	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	resp := messages.new("MountResponse")
	err = conn.Invoke(ctx, "/"+serviceName+"/Mount", req, resp)
	r.Milliseconds = float64(time.Since(started).Microseconds()) / 1000
	if err != nil {
		return failure(r, err), nil
	}
	if errField := resp.Get(resp.Descriptor().Fields().ByName("error")).Message(); errField.IsValid() {
		if code := getString(errField, "code"); code != "" {
			r.Code = code
			r.Message = fmt.Sprintf("mount request failed with provider error code %s", code)
			return r, nil
		}
	}
	ovList := getList(resp, "object_version")
	if ovList.Len() == 0 {
		// The driver tests GetObjectVersion() for nil; on the wire an empty list and nil are the same.
		r.Message = "missing object versions"
		return r, nil
	}
	r.ObjectVersions = map[string]string{}
	for i := 0; i < ovList.Len(); i++ {
		ov := ovList.Get(i).Message()
		r.ObjectVersions[getString(ov, "id")] = getString(ov, "version")
	}
	files := getList(resp, "files")
	var payloads []outputFile
	for i := 0; i < files.Len(); i++ {
		f := files.Get(i).Message().(*dynamicpb.Message)
		contents := f.Get(f.Descriptor().Fields().ByName("contents")).Bytes()
		payloads = append(payloads, outputFile{
			Path:     getString(f, "path"),
			Mode:     int32(f.Get(f.Descriptor().Fields().ByName("mode")).Int()),
			Contents: base64.StdEncoding.EncodeToString(contents),
		})
	}
	r.Files = payloads
	if o.write && len(payloads) > 0 {
		if err := writePayloads(o.targetPath, payloads); err != nil {
			r.Code = "FileWriteError"
			r.Message = err.Error()
			return r, nil
		}
		r.Written = true
	}
	r.OK = true
	return r, nil
}

// validatePath is the driver's fileutil check of one file path.
func validatePath(targetPath string) error {
	if targetPath == "" {
		return fmt.Errorf("invalid path: must not be empty: %q", targetPath)
	}
	if path.IsAbs(targetPath) {
		return fmt.Errorf("invalid path: must be relative path: %s", targetPath)
	}
	if len(targetPath) > maxPathLength {
		return fmt.Errorf("invalid path: must be less than or equal to %d characters", maxPathLength)
	}
	items := strings.Split(targetPath, string(os.PathSeparator))
	for _, item := range items {
		if item == ".." {
			return fmt.Errorf("invalid path: must not contain '..': %s", targetPath)
		}
		if len(item) > maxFileNameLength {
			return fmt.Errorf("invalid path: filenames must be less than or equal to %d characters", maxFileNameLength)
		}
	}
	if strings.HasPrefix(items[0], "..") && len(items[0]) > 2 {
		return fmt.Errorf("invalid path: must not start with '..': %s", targetPath)
	}
	if filepath.Clean(targetPath) != targetPath {
		return fmt.Errorf("invalid filepath: %q", targetPath)
	}
	return nil
}

func writePayloads(target string, payloads []outputFile) error {
	if target == "" {
		return errors.New("missing target path")
	}
	for _, p := range payloads {
		if err := validatePath(p.Path); err != nil {
			return err
		}
	}
	for _, p := range payloads {
		contents, err := base64.StdEncoding.DecodeString(p.Contents)
		if err != nil {
			return err
		}
		file := filepath.Join(target, p.Path)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, contents, os.FileMode(p.Mode)); err != nil {
			return err
		}
		// WriteFile leaves the mode of an existing file alone and applies the umask to a new one.
		if err := os.Chmod(file, os.FileMode(p.Mode)); err != nil {
			return err
		}
	}
	return nil
}
