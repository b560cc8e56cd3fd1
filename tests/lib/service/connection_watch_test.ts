import assert from "node:assert/strict";
import {
  canonicalAddress,
  ConnectionWatch,
  establishedRemotes,
  parseTableAddress,
} from "../../../lib/service/connection_watch.ts";

const TCP =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F40 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F40 0100007F:9C41 08 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 =
  `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F40 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
   1: 0000000000000000FFFF00000100000A:1F40 0000000000000000FFFF00000200000A:D432 01 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 20 4 30 10 -1
`;

Deno.test("parseTableAddress() reads IPv4, IPv6 and IPv4-mapped fields", () => {
  assert.equal(parseTableAddress("0100007F:1F40"), "127.0.0.1:8000");
  assert.equal(parseTableAddress("00000000000000000000000001000000:0050"), "0:0:0:0:0:0:0:1:80");
  assert.equal(parseTableAddress("0000000000000000FFFF00000100000A:0001"), "10.0.0.1:1");
  assert.equal(parseTableAddress("xyz:1"), undefined);
  assert.equal(parseTableAddress("0100007F"), undefined);
});

Deno.test("canonicalAddress() writes a hostname as the table does", () => {
  assert.equal(canonicalAddress("127.0.0.1"), "127.0.0.1");
  assert.equal(canonicalAddress("::ffff:10.0.0.2"), "10.0.0.2");
  assert.equal(canonicalAddress("[::1]"), "0:0:0:0:0:0:0:1");
  assert.equal(canonicalAddress("fe80::1:2%eth0"), "fe80:0:0:0:0:0:1:2");
  assert.equal(canonicalAddress("2001:db8:0:0:0:0:0:1"), "2001:db8:0:0:0:0:0:1");
  assert.equal(canonicalAddress("localhost"), undefined);
  assert.equal(canonicalAddress("1::2::3"), undefined);
});

Deno.test("establishedRemotes() keeps established sockets only (not LISTEN, not CLOSE_WAIT)", () => {
  assert.deepEqual(
    [...establishedRemotes([TCP, TCP6])].sort(),
    ["0:0:0:0:0:0:0:1:54321", "10.0.0.2:54322", "127.0.0.1:40000"],
  );
});

Deno.test("a watched connection aborts within a second of its client closing; an open one does not", async () => {
  const watch = new ConnectionWatch();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const leaving = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const leavingServer = await listener.accept();
  const staying = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const stayingServer = await listener.accept();
  try {
    const gone = watch.watch(leavingServer.remoteAddr);
    const kept = watch.watch(stayingServer.remoteAddr);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(gone.signal.aborted, false);
    leaving.close();
    const closedMs = performance.now();
    await new Promise<void>((resolve) => gone.signal.addEventListener("abort", () => resolve()));
    assert.ok(performance.now() - closedMs < 1_000);
    assert.equal((gone.signal.reason as DOMException).name, "AbortError");
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(kept.signal.aborted, false);
    kept.release();
    assert.equal(watch.size, 0);
  } finally {
    staying.close();
    leavingServer.close();
    stayingServer.close();
    listener.close();
  }
});

Deno.test("without a socket table, watching turns itself off and nothing is aborted", async () => {
  const watch = new ConnectionWatch({
    intervalMs: 10,
    readTables: () => Promise.reject(new Error("no /proc")),
  });
  const watched = watch.watch({ transport: "tcp", hostname: "127.0.0.1", port: 1 });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(watch.disabled, true);
  assert.equal(watched.signal.aborted, false);
  assert.equal(watch.size, 0);
  // Later connections are not watched at all.
  watch.watch({ transport: "tcp", hostname: "127.0.0.1", port: 2 });
  assert.equal(watch.size, 0);
});

Deno.test("a connection watched after the table was read is judged by the next read only", async () => {
  let reads = 0;
  const watch = new ConnectionWatch({
    intervalMs: 10,
    readTables: async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 30));
      return [reads === 1 ? TCP : TCP.replace(":9C40 01", ":9C40 08")];
    },
  });
  const first = watch.watch({ transport: "tcp", hostname: "127.0.0.1", port: 0x9c40 });
  await new Promise((r) => setTimeout(r, 20));
  // Registered while the first read is under way, absent from its table.
  const late = watch.watch({ transport: "tcp", hostname: "127.0.0.1", port: 0x9c42 });
  await new Promise((r) => setTimeout(r, 25));
  assert.equal(late.signal.aborted, false);
  assert.equal(first.signal.aborted, false);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(first.signal.aborted, true);
  assert.equal(late.signal.aborted, true);
  assert.equal(watch.size, 0);
});
