import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchImage, promptLimit } from "./image-generator.js";
import { startOpenAIServer, type OpenAIServer } from "../../test/servers/openai.js";
import { makePng } from "../../test/fixtures/images.js";

describe("promptLimit", () => {
  it("knows each image model's prompt limit and is loose for unknown models", () => {
    expect(promptLimit("dall-e-2")).toBe(1000);
    expect(promptLimit("dall-e-3")).toBe(4000);
    expect(promptLimit("gpt-image-1")).toBe(32000);
    expect(promptLimit("openai/gpt-image-1-mini")).toBe(32000);
    expect(promptLimit("some-compatible-model")).toBe(32000);
  });
});

describe("fetchImage", () => {
  let server: OpenAIServer;
  beforeAll(async () => {
    server = await startOpenAIServer();
  });
  afterAll(() => server.close());

  it("returns the exact bytes behind a url answer", async () => {
    const png = makePng(30, 20, 1);
    const url = server.addFile("fetch-ok.png", png);
    expect(await fetchImage(url, new AbortController().signal)).toEqual(png);
  });

  it("stops at the size bound and names no URL in its errors", async () => {
    const png = makePng(64, 64, 2);
    const url = server.addFile("fetch-big.png", png);
    await expect(fetchImage(url, new AbortController().signal, png.length - 1)).rejects.toMatchObject({ reason: "too_big" });
    const missing = `${server.origin}/files/nope.png?sig=secret`;
    const err = (await fetchImage(missing, new AbortController().signal).catch((e: unknown) => e)) as Error & { reason: string };
    expect(err.reason).toBe("download_failed");
    expect(err.message).not.toContain("secret");
  });

  it("gives the caller's abort reason when the caller cancels", async () => {
    const url = server.addFile("fetch-abort.png", makePng(8, 8, 3));
    const controller = new AbortController();
    const reason = new Error("shutdown");
    controller.abort(reason);
    await expect(fetchImage(url, controller.signal)).rejects.toBe(reason);
  });
});
