// A bitseg client in Node.js from the proto alone (@grpc/grpc-js + @grpc/proto-loader, no generated code):
// counts a segment query and streams its members.
//
//   node examples/node/client.js HOST:PORT INDEX 'QUERY' [TOKEN]
//
// Prints one JSON line: {"count": N, "members": [...ids]}. Numbers of 64 bits arrive as strings (longs: String),
// so a count above 2^53 is not rounded.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO = path.join(__dirname, '..', '..', 'proto', 'bitseg', 'v1', 'segments.proto');

function connect(address) {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true });
  const { SegmentService } = grpc.loadPackageDefinition(definition).bitseg.v1;
  return new SegmentService(address, grpc.credentials.createInsecure());
}

function metadataFor(token) {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

function count(client, metadata, index, query) {
  return new Promise((resolve, reject) => {
    client.Count({ index, query }, metadata, (err, reply) => (err ? reject(err) : resolve(Number(reply.count))));
  });
}

function members(client, metadata, index, query) {
  return new Promise((resolve, reject) => {
    const ids = [];
    const stream = client.StreamMembers({ index, query, chunk_size: 1000 }, metadata);
    stream.on('data', (chunk) => ids.push(...chunk.customer_ids));
    stream.on('error', reject);
    stream.on('end', () => resolve(ids));
  });
}

async function main() {
  const [address, index, query, token] = process.argv.slice(2);
  if (!address || !index || query === undefined) {
    console.error("usage: node client.js HOST:PORT INDEX 'QUERY' [TOKEN]");
    process.exit(2);
  }
  const client = connect(address);
  const metadata = metadataFor(token || process.env.BITSEG_TOKEN);
  try {
    const n = await count(client, metadata, index, query);
    const ids = await members(client, metadata, index, query);
    console.log(JSON.stringify({ count: n, members: ids }));
  } catch (err) {
    // err.code is the gRPC status number, err.details the server's message (a query error names line:column).
    console.error(`bitseg: ${err.details || err.message} (code ${err.code})`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

main();
