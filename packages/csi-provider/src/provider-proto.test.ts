// The built-in descriptor is the .proto, and the service built from it speaks exactly as the one
// @grpc/proto-loader built from the .proto with the options the provider used: same method paths and
// names, same bytes on the wire, same objects out, for random messages.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { loadProviderService, providerProtoDescriptor } from './provider-proto.ts';

const protoFile = path.join(import.meta.dirname, '../proto/v1alpha1/service.proto');

/** What the provider loaded at start before: proto-loader over the .proto, through grpc-js. */
function protoLoaderService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(protoFile, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    v1alpha1: { CSIDriverProvider: grpc.ServiceClientConstructor };
  };
  return loaded.v1alpha1.CSIDriverProvider.service;
}

type Method = grpc.MethodDefinition<object, object>;

const objectVersion = fc.record({ id: fc.string(), version: fc.string() }, { requiredKeys: [] });
const mountRequest = fc.record(
  {
    attributes: fc.string({ unit: 'grapheme' }),
    secrets: fc.string(),
    target_path: fc.string(),
    permission: fc.string(),
    current_object_version: fc.array(objectVersion, { maxLength: 4 }),
  },
  { requiredKeys: [] },
);
const mountResponse = fc.record(
  {
    object_version: fc.array(objectVersion, { maxLength: 4 }),
    error: fc.record({ code: fc.string() }),
    files: fc.array(
      fc.record(
        {
          path: fc.string(),
          mode: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          contents: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: [] },
);
const versionRequest = fc.record({ version: fc.string() }, { requiredKeys: [] });
const versionResponse = fc.record(
  { version: fc.string(), runtime_name: fc.string(), runtime_version: fc.string() },
  { requiredKeys: [] },
);

describe('the provider service from the built-in descriptor', () => {
  const ours = loadProviderService();
  const theirs = protoLoaderService();

  it('is proto/v1alpha1/service.proto, as protobufjs parses it with keepCase', () => {
    const parsed = new protobuf.Root().loadSync(protoFile, { keepCase: true });
    expect(providerProtoDescriptor).toEqual(parsed.toJSON());
  });

  it("has proto-loader's methods: paths, names and streaming", () => {
    const shape = (service: grpc.ServiceDefinition) =>
      Object.fromEntries(
        Object.entries(service).map(([name, method]) => [
          name,
          {
            path: method.path,
            requestStream: method.requestStream,
            responseStream: method.responseStream,
            originalName: method.originalName,
          },
        ]),
      );
    expect(Object.keys(ours).sort()).toEqual(['Mount', 'Version']);
    expect(shape(ours)).toEqual(shape(theirs));
  });

  it.each([
    ['Mount', 'request', mountRequest],
    ['Mount', 'response', mountResponse],
    ['Version', 'request', versionRequest],
    ['Version', 'response', versionResponse],
  ] as const)(
    '%s %s: the same bytes and the same objects as proto-loader, for random messages',
    (name, side, messages) => {
      const serialize = (service: grpc.ServiceDefinition) =>
        side === 'request' ? (service[name] as Method).requestSerialize : (service[name] as Method).responseSerialize;
      const deserialize = (service: grpc.ServiceDefinition) =>
        side === 'request'
          ? (service[name] as Method).requestDeserialize
          : (service[name] as Method).responseDeserialize;
      fc.assert(
        fc.property(messages as fc.Arbitrary<object>, (message) => {
          const bytes = serialize(ours)(message);
          expect(Buffer.isBuffer(bytes)).toBe(true);
          expect(bytes).toEqual(serialize(theirs)(message));
          expect(deserialize(ours)(bytes)).toEqual(deserialize(theirs)(bytes));
        }),
        { numRuns: 300 },
      );
    },
  );

  it('refuses an array as proto-loader does', () => {
    const message = (service: grpc.ServiceDefinition) => () => (service.Mount as Method).requestSerialize([]);
    expect(message(ours)).toThrow(
      'Failed to serialize message: expected object with MountRequest structure, got array instead',
    );
    expect(message(theirs)).toThrow(
      'Failed to serialize message: expected object with MountRequest structure, got array instead',
    );
  });
});
