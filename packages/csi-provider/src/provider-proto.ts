// The v1alpha1.CSIDriverProvider service as grpc-js wants it, from a descriptor built in instead of the
// .proto parsed at start. @grpc/proto-loader's loadSync ran protobufjs's tokenizer and parser over
// proto/v1alpha1/service.proto and, at import, built protobufjs's reflection of the whole of
// google/protobuf/descriptor.proto (its `ext/descriptor`): ~1.5 MiB of idle RSS for seven small messages
// (README, memory footprint). Here protobufjs's light build (reflection, encoder and decoder; no parser)
// reads the descriptor below, and each method (de)serializes exactly as proto-loader's does with the
// options the provider used (keepCase, longs and enums as strings, defaults, oneofs).
// provider-proto.test.ts checks the descriptor against the .proto, so the two cannot drift, and the
// bytes and objects against proto-loader's.
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';

/**
 * proto/v1alpha1/service.proto as protobufjs's JSON descriptor (`Root.toJSON()` of the file parsed with
 * keepCase), the field names as the .proto spells them.
 */
export const providerProtoDescriptor = {
  nested: {
    v1alpha1: {
      nested: {
        CSIDriverProvider: {
          methods: {
            Version: { requestType: 'VersionRequest', responseType: 'VersionResponse' },
            Mount: { requestType: 'MountRequest', responseType: 'MountResponse' },
          },
        },
        VersionRequest: { fields: { version: { type: 'string', id: 1 } } },
        VersionResponse: {
          fields: {
            version: { type: 'string', id: 1 },
            runtime_name: { type: 'string', id: 2 },
            runtime_version: { type: 'string', id: 3 },
          },
        },
        MountRequest: {
          fields: {
            attributes: { type: 'string', id: 1 },
            secrets: { type: 'string', id: 2 },
            target_path: { type: 'string', id: 3 },
            permission: { type: 'string', id: 4 },
            current_object_version: { rule: 'repeated', type: 'ObjectVersion', id: 5 },
          },
        },
        MountResponse: {
          fields: {
            object_version: { rule: 'repeated', type: 'ObjectVersion', id: 1 },
            error: { type: 'Error', id: 2 },
            files: { rule: 'repeated', type: 'File', id: 3 },
          },
        },
        File: {
          fields: {
            path: { type: 'string', id: 1 },
            mode: { type: 'int32', id: 2 },
            contents: { type: 'bytes', id: 3 },
          },
        },
        ObjectVersion: {
          fields: {
            id: { type: 'string', id: 1 },
            version: { type: 'string', id: 2 },
          },
        },
        Error: { fields: { code: { type: 'string', id: 1 } } },
      },
    },
  },
};

/** proto-loader's options as the provider passed them; keepCase is in the descriptor's names. */
const conversion: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

/** proto-loader's serializer: the object through fromObject, encoded; an array is refused as there. */
function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value))
      throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    // protobufjs's writer on Node is its BufferWriter: finish() gives a Buffer.
    return type.encode(type.fromObject(value)).finish() as Buffer;
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), conversion);
}

/** The service's methods, keyed and named as grpc.loadPackageDefinition of proto-loader's output keys them. */
export function loadProviderService(): grpc.ServiceDefinition {
  // protobufjs's typings require a `comment` on every method, which its own toJSON() leaves out.
  const root = protobuf.Root.fromJSON(providerProtoDescriptor as unknown as protobuf.INamespace);
  const service = root.lookupService('v1alpha1.CSIDriverProvider');
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (!request || !response) throw new Error(`v1alpha1.CSIDriverProvider/${method.name}: unresolved message types`);
    definition[method.name] = {
      path: `/v1alpha1.CSIDriverProvider/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      // proto-loader's lodash camelCase of the name: the client's lower-case alias (`client.mount`).
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return definition as grpc.ServiceDefinition;
}
