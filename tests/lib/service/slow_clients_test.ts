import assert from "node:assert/strict";
import { ConnectionWatch } from "../../../lib/service/connection_watch.ts";
import { serverSockets, SlowClientReaper } from "../../../lib/service/slow_clients.ts";

const TABLE =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0 100 0 0 10 0
   1: 0100007F:1F40 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 12 1 0 20 4 30 10 -1
   2: 0100007F:9C40 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 13 1 0 20 4 30 10 -1
   3: 0100007F:1F40 0100007F:9C41 08 00000000:00000000 00:00000000 00000000     0        0 14 1 0 20 4 30 10 -1
`;

Deno.test("serverSockets() keeps established connections on the server's port only", () => {
  // Not the listener (0A), not the client's own end (local 9C40), not CLOSE_WAIT (08).
  assert.deepEqual(serverSockets([TABLE], 8000), [{ remote: "127.0.0.1:40000", inode: "12" }]);
  assert.deepEqual(serverSockets([TABLE], 8001), []);
});

Deno.test({
  name: "SlowClientReaper closes a silent connection after its timeout, not a busy one",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const watch = new ConnectionWatch();
    const reaper = new SlowClientReaper({
      port: listener.addr.port,
      idleTimeoutS: 0.3,
      watch,
      intervalMs: 100,
    });
    assert.equal(reaper.start(), true);
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const silentServer = await listener.accept();
    const busy = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const busyServer = await listener.accept();
    const inFlight = watch.watch(busyServer.remoteAddr);
    try {
      // The server side of the silent one sees its end: shutdown(2) ends its reads.
      const read = await Promise.race([
        silentServer.read(new Uint8Array(1)),
        new Promise<"open">((r) => setTimeout(() => r("open"), 3_000)),
      ]);
      assert.equal(read, null);
      assert.ok(reaper.closed >= 1);
      await new Promise((r) => setTimeout(r, 400));
      // The busy one is still open both ways.
      await busy.write(new Uint8Array([1]));
      const got = new Uint8Array(1);
      assert.equal(await busyServer.read(got), 1);
    } finally {
      reaper.stop();
      inFlight.release();
      for (const c of [silent, silentServer, busy, busyServer]) c.close();
      listener.close();
    }
  },
});
