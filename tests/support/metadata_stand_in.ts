// tests/support/metadata_stand_in.ts: answers "stand-in" on port 80 of each address given, and on
// a free port of 127.0.0.1, and DNS on UDP port 53 of the first address (every A query: 127.0.0.1,
// as GCE's resolver shares the metadata address), inside the test's network namespace
// (network_grant_test.ts). Prints the loopback URL once every listener is up; runs until killed.
// Run with --unstable-net (Deno.listenDatagram).
const handler = () => new Response("stand-in");
for (const hostname of Deno.args) {
  await new Promise<void>((ready) =>
    Deno.serve({ hostname, port: 80, onListen: () => ready() }, handler)
  );
}
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`http://127.0.0.1:${port}/`),
}, handler);

/** The reply to one DNS query: the question echoed, and one A record 127.0.0.1 if it asked for A. */
function answer(query: Uint8Array): Uint8Array {
  let end = 12;
  while (query[end] !== 0) end += query[end] + 1; // the question's name, label by label
  const question = query.subarray(12, end + 5); // name, its 0, type and class
  const isA = query[end + 1] === 0 && query[end + 2] === 1;
  const reply = new Uint8Array(12 + question.length + (isA ? 16 : 0));
  reply.set(query.subarray(0, 2)); // the query's id
  reply.set([0x81, 0x80, 0, 1, 0, isA ? 1 : 0, 0, 0, 0, 0], 2); // a recursive answer, no error
  reply.set(question, 12);
  if (isA) reply.set([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1], 12 + question.length);
  return reply;
}

const resolver = Deno.listenDatagram({ transport: "udp", hostname: Deno.args[0], port: 53 });
for await (const [query, from] of resolver) await resolver.send(answer(query), from);
