import { Api } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminCache } from "./admins.js";
import { startBotApiServer, type BotApiServer } from "../../test/servers/bot-api.js";

let server: BotApiServer;
let api: Api;
const GROUP = -100_555;
beforeAll(async () => {
  server = await startBotApiServer();
  api = new Api(server.token, { apiRoot: server.apiRoot });
  server.addChat({ id: GROUP, type: "supergroup", title: "Admins" });
  server.setChatMember(GROUP, { id: 1, first_name: "Creator" }, "creator");
  server.setChatMember(GROUP, { id: 2, first_name: "Admin" }, "administrator");
  server.setChatMember(GROUP, { id: 3, first_name: "Member" }, "member");
  server.addUser({ id: 4, first_name: "Outsider" });
});
afterAll(() => server.close());

const lookups = () => server.calls.filter((c) => c.method === "getChatMember").length;

describe("AdminCache", () => {
  it("knows creators and administrators from getChatMember", async () => {
    const cache = new AdminCache({ ttlMs: 60_000 });
    expect(await cache.isAdmin(api, GROUP, 1)).toBe(true);
    expect(await cache.isAdmin(api, GROUP, 2)).toBe(true);
    expect(await cache.isAdmin(api, GROUP, 3)).toBe(false);
    expect(await cache.isAdmin(api, GROUP, 4)).toBe(false);
  });

  it("asks Telegram once within the TTL and again after it", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const cache = new AdminCache({ ttlMs: 60_000, now: () => now });
    const start = lookups();
    await Promise.all([cache.isAdmin(api, GROUP, 2), cache.isAdmin(api, GROUP, 2)]);
    expect(await cache.isAdmin(api, GROUP, 2)).toBe(true);
    expect(lookups() - start).toBe(1);
    server.setChatMember(GROUP, 2, "member");
    now = new Date(now.getTime() + 60_001);
    expect(await cache.isAdmin(api, GROUP, 2)).toBe(false);
    expect(lookups() - start).toBe(2);
    server.setChatMember(GROUP, 2, "administrator");
  });

  it("passes Telegram's errors on (the caller treats them as not an admin)", async () => {
    const cache = new AdminCache({ ttlMs: 60_000 });
    await expect(cache.isAdmin(api, -100_999, 2)).rejects.toThrow(/chat not found/);
  });

  it("stays bounded in size", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const cache = new AdminCache({ ttlMs: 1000, now: () => now, maxEntries: 2 });
    for (const id of [1, 2, 3]) await cache.isAdmin(api, GROUP, id);
    now = new Date(now.getTime() + 500);
    const start = lookups();
    // The oldest entry made room: asked again; the newest is still cached.
    await cache.isAdmin(api, GROUP, 1);
    await cache.isAdmin(api, GROUP, 3);
    expect(lookups() - start).toBe(1);
  });
});
