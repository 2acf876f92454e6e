/**
 * Pictures end to end: /image (generated, sent at once, pinned to IPFS through the Kubo test server, caption edited
 * with the CID) and photos / image documents described by the vision model, all against the local test servers.
 */
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MessageEntity } from "grammy/types";
import OpenAI from "openai";
import { chatCalls, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { kuboCid, startKuboServer, type KuboServer } from "../servers/kubo.js";
import type { Call } from "../servers/bot-api.js";
import { makeGif, makeJpeg, makePng, makeWebp, seededBytes } from "../fixtures/images.js";
import { createIpfsPinner, type IpfsPinner } from "../../src/ipfs/pin.js";
import { historyKey } from "../../src/storage/history.js";
import { ImageGenerator } from "../../src/ai/image-generator.js";

const GATEWAY = "https://gateway.test/ipfs/";
const VISION_MODEL = "gpt-4o";

let h: Harness;
let kubo: KuboServer;
let pinner: IpfsPinner | undefined;
let images: ImageGenerator;

beforeAll(async () => {
  kubo = await startKuboServer();
  // A vision model different from the chat model, so the tests see which one each request goes to.
  h = await startHarness({ env: { IPFS_API_URL: kubo.apiUrl, IPFS_GATEWAY_URL: GATEWAY, OPENAI_VISION_MODEL: VISION_MODEL } });
  pinner = h.app.deps.ipfs;
  images = h.app.deps.images;
});
afterEach(() => {
  kubo.mode = "up";
  h.app.deps.ipfs = pinner;
  h.app.deps.images = images;
});
afterAll(async () => {
  await h.close();
  await kubo.close();
});

/** Runs Debian's `ipfs_cid` (package ipfs-cid) on the bytes: the CIDv0 a default Kubo gives them. */
async function debianIpfsCid(bytes: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pictures-cid-"));
  try {
    const file = join(dir, "image.png");
    await writeFile(file, bytes);
    const run = spawnSync("ipfs_cid", [file], { encoding: "utf8" });
    if (run.error || run.status !== 0) throw new Error(`ipfs_cid failed (apt-get install ipfs-cid): ${run.error?.message ?? run.stderr}`);
    const v0 = (JSON.parse(run.stdout) as { CIDv0?: string }).CIDv0;
    if (!v0) throw new Error(`no CIDv0 in ipfs_cid output: ${run.stdout}`);
    return v0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const imageRequests = () => h.openai.requests.filter((r) => r.path === "/v1/images/generations");
const lastVisionRequest = () => h.openai.chatRequests().at(-1)!;
/** The image_url parts of a chat request's messages. */
function imageParts(body: { messages: Array<{ content?: unknown }> }): Array<{ url: string; detail?: string }> {
  const parts: Array<{ url: string; detail?: string }> = [];
  for (const m of body.messages) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content as Array<{ type: string; image_url?: { url: string; detail?: string } }>) {
      if (p.type === "image_url" && p.image_url) parts.push(p.image_url);
    }
  }
  return parts;
}
const dataUrl = (mime: string, bytes: Uint8Array) => `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`;
const textLinks = (call: Call) =>
  ((call.params.caption_entities ?? []) as MessageEntity[]).filter((e): e is MessageEntity.TextLinkMessageEntity => e.type === "text_link");

describe("/image", () => {
  it("sends the generated photo (b64_json), then edits its caption to the CID Kubo computes, with a gateway link", async () => {
    const { user, chat } = newPrivateChat(h);
    const png = makePng(64, 48, 7);
    h.openai.enqueueImages({ image: { bytes: png, format: "b64_json" } });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/image a red fox in the snow" });

    const request = imageRequests().at(-1)!.body as Record<string, unknown>;
    expect(request).toMatchObject({ model: "gpt-image-1", prompt: "a red fox in the snow", n: 1 });
    // GPT image models reject response_format; they always answer base64.
    expect(request).not.toHaveProperty("response_format");
    expect(h.telegram.calls.slice(from).some((c) => c.method === "sendChatAction" && c.params.action === "upload_photo")).toBe(true);

    const calls = chatCalls(h, chat.id, from);
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto", "editMessageCaption"]);
    const [photo] = h.telegram.botMessages(chat.id);
    expect(h.telegram.fileBytes(photo!.photo![0]!.file_id)).toEqual(png);

    const cid = await kuboCid(png);
    expect(cid).toBe(await debianIpfsCid(png));
    expect(kubo.pins.has(cid)).toBe(true);
    expect(photo!.caption).toBe(`IPFS: ${cid}`);
    expect(textLinks(calls[1]!)).toEqual([{ type: "text_link", offset: "IPFS: ".length, length: cid.length, url: GATEWAY + cid }]);
    expect(calls[1]!.params).not.toHaveProperty("parse_mode");

    // One image counted; history holds a short note with the prompt and the CID, never the bytes.
    const usage = await h.app.deps.usage.get({ userId: user.id });
    expect(usage.total.images).toBe(1);
    const turns = await h.app.deps.history.load(historyKey(chat.id));
    expect(turns.map((t) => t.role)).toEqual(["user", "assistant"]);
    expect(turns[0]!.content).toBe("/image a red fox in the snow");
    expect(turns[1]!.content).toContain(cid);
    expect(JSON.stringify(turns)).not.toContain(Buffer.from(png).toString("base64").slice(0, 40));
  });

  it("fetches the bytes of a url answer and sends them, in the group topic, replying to the command", async () => {
    const { user, chat } = newGroup(h, { is_forum: true });
    const png = makePng(40, 40, 3);
    h.openai.enqueueImages({ image: { bytes: png, format: "url" } });
    const before = h.openai.requests.length;
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/image a lighthouse at dusk", threadId: 77 });

    expect(h.openai.requests.slice(before).some((r) => r.method === "GET" && r.path.startsWith("/files/"))).toBe(true);
    const calls = chatCalls(h, chat.id, from);
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto", "editMessageCaption"]);
    expect(calls[0]!.params.message_thread_id).toBe(77);
    const command = h.telegram.messages(chat.id).find((m) => m.text === "/image a lighthouse at dusk")!;
    const photo = h.telegram.botMessages(chat.id)[0]!;
    expect(photo.reply_to_message_id).toBe(command.message_id);
    expect(h.telegram.fileBytes(photo.photo![0]!.file_id)).toEqual(png);
    expect(photo.caption).toBe(`IPFS: ${await kuboCid(png)}`);
  });

  it("keeps the photo and says in one line that pinning failed when IPFS is down", async () => {
    const { user, chat } = newPrivateChat(h);
    kubo.mode = "down";
    const png = makePng(32, 32, 11);
    h.openai.enqueueImages({ image: { bytes: png } });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/image a boat" });

    const calls = chatCalls(h, chat.id, from);
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto", "editMessageCaption"]);
    const photo = h.telegram.botMessages(chat.id)[0]!;
    expect(h.telegram.fileBytes(photo.photo![0]!.file_id)).toEqual(png);
    expect(photo.caption).toBe("Not pinned to IPFS: the IPFS node is unreachable.");
    expect(photo.caption).not.toContain("\n");
    expect(textLinks(calls[1]!)).toEqual([]);
  });

  it("sends the photo before a slow node answers, and edits in the CID once the pin lands", async () => {
    const { user, chat } = newPrivateChat(h);
    kubo.mode = "slow";
    kubo.slowMs = 1000;
    const png = makePng(20, 10, 9);
    let bytesAt = 0;
    h.openai.enqueueImages(() => {
      bytesAt = Date.now();
      return { image: { bytes: png } };
    });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/image a tortoise" });
    const [sent, edited] = chatCalls(h, chat.id, from);
    expect(sent!.method).toBe("sendPhoto");
    expect(sent!.params.caption).toBe("Pinning to IPFS…");
    expect(edited!.method).toBe("editMessageCaption");
    // The node answers the upload slowMs after it arrives, which is after the image bytes did: a photo sent within
    // that time cannot have waited for the pin, and the caption edit cannot have come before the node answered.
    expect(sent!.at - bytesAt).toBeLessThan(kubo.slowMs);
    expect(edited!.at - bytesAt).toBeGreaterThanOrEqual(kubo.slowMs);
    expect(h.telegram.botMessages(chat.id)[0]!.caption).toBe(`IPFS: ${await kuboCid(png)}`);
  });

  it("gives up on a pin that takes longer than its bound and says so, keeping the photo", async () => {
    const { user, chat } = newPrivateChat(h);
    kubo.mode = "slow";
    kubo.slowMs = 1500;
    // The pin's bound, shortened so the test does not wait the default 20 s; the feature code is the same.
    h.app.deps.ipfs = createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: GATEWAY, timeoutMs: 300 });
    const png = makePng(16, 16, 5);
    h.openai.enqueueImages({ image: { bytes: png } });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/image a slow snail" });

    expect(chatCalls(h, chat.id, from).map((c) => c.method)).toEqual(["sendPhoto", "editMessageCaption"]);
    const photo = h.telegram.botMessages(chat.id)[0]!;
    expect(h.telegram.fileBytes(photo.photo![0]!.file_id)).toEqual(png);
    expect(photo.caption).toBe("Not pinned to IPFS: the IPFS node did not answer in time.");
    expect(kubo.pins.has(await kuboCid(png))).toBe(false);
  });

  it("sends just the photo when no IPFS node is configured", async () => {
    const { user, chat } = newPrivateChat(h);
    h.app.deps.ipfs = undefined;
    h.openai.enqueueImages({ image: { bytes: makePng(24, 24, 2) } });
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/image a kite" });
    expect(chatCalls(h, chat.id, from).map((c) => c.method)).toEqual(["sendPhoto"]);
    expect(h.telegram.botMessages(chat.id)[0]!.caption).toBeUndefined();
    const turns = await h.app.deps.history.load(historyKey(chat.id));
    expect(turns.at(-1)!.content).not.toContain("IPFS");
  });

  it("answers a refused prompt (content policy) clearly, in the user's language", async () => {
    const en = newPrivateChat(h);
    const zh = newPrivateChat(h, { language_code: "zh-hans" });
    const refusal = (code: string) => ({
      error: {
        status: 400,
        body: { error: { message: "Your request was rejected by the safety system.", type: "image_generation_user_error", param: null, code } },
      },
    });
    h.openai.enqueueImages(refusal("moderation_blocked"), refusal("content_policy_violation"));
    await say(h, { chat: en.chat.id, from: en.user, text: "/image something forbidden" });
    await say(h, { chat: zh.chat.id, from: zh.user, text: "/image 不允许的内容" });
    expect(h.telegram.botMessages(en.chat.id).map((m) => m.text)).toEqual([
      "The image model refused this description (content policy). Please try a different one.",
    ]);
    expect(h.telegram.botMessages(zh.chat.id).map((m) => m.text)).toEqual(["图片模型拒绝了这段描述（内容政策）。请换一种描述。"]);
    expect(h.telegram.botMessages(en.chat.id).some((m) => m.photo)).toBe(false);
    expect(await h.app.deps.history.load(historyKey(en.chat.id))).toEqual([]);
  });

  it("answers a missing prompt with the usage, without calling the model", async () => {
    const { user, chat } = newPrivateChat(h);
    const before = imageRequests().length;
    await say(h, { chat: chat.id, from: user, text: "/image   " });
    expect(imageRequests().length).toBe(before);
    expect(h.telegram.botMessages(chat.id)[0]!.text).toMatch(/^Usage: \/image /);
  });

  it("refuses a prompt over the model's limit before calling it, and asks DALL·E for base64", async () => {
    const { user, chat } = newPrivateChat(h);
    h.app.deps.images = new ImageGenerator({ openai: new OpenAI({ apiKey: h.openai.apiKey, baseURL: h.openai.baseURL }), model: "dall-e-2" });
    const before = imageRequests().length;
    await say(h, { chat: chat.id, from: user, text: `/image ${"a".repeat(1001)}` });
    expect(imageRequests().length).toBe(before);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/too long .*1,001 characters, at most 1,000/);

    h.openai.enqueueImages({ image: { bytes: makePng(8, 8, 1) } });
    await say(h, { chat: chat.id, from: user, text: `/image ${"a".repeat(1000)}` });
    expect(imageRequests().at(-1)!.body).toMatchObject({ model: "dall-e-2", response_format: "b64_json" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.photo).toBeDefined();
  });

  it("says so when Telegram refuses the photo", async () => {
    const { user, chat } = newPrivateChat(h);
    h.telegram.failNext("sendPhoto", { error_code: 400, description: "Bad Request: PHOTO_INVALID_DIMENSIONS" });
    h.openai.enqueueImages({ image: { bytes: makePng(12, 12, 8) } });
    await say(h, { chat: chat.id, from: user, text: "/image a wide panorama" });
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual([
      "The picture was generated but Telegram would not accept it. Please try again.",
    ]);
  });

  it("reports a model error and an answer without a usable image", async () => {
    const { user, chat } = newPrivateChat(h);
    h.openai.enqueueImages({ error: { status: 500 } }, { image: { b64_json: Buffer.from("not a picture").toString("base64") } });
    await say(h, { chat: chat.id, from: user, text: "/image a cat" });
    await say(h, { chat: chat.id, from: user, text: "/image a dog" });
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual([
      "The AI service had an internal error. Please try again.",
      "The image model did not send back a usable picture. Please try again.",
    ]);
  });
});

describe("photos and image documents", () => {
  /** Three sizes of one photo, each with its own bytes (as Telegram's re-encodings are). */
  const photoSizes = (seed: number) => [
    { bytes: makePng(90, 68, seed), width: 90, height: 68 },
    { bytes: makePng(320, 240, seed + 1), width: 320, height: 240 },
    { bytes: makePng(1024, 768, seed + 2), width: 1024, height: 768 },
  ];

  it("describes a photo in a private chat: exact bytes of the largest size, no token anywhere, file_id in history", async () => {
    const { user, chat } = newPrivateChat(h);
    const sizes = photoSizes(20);
    const before = h.openai.requests.length;
    await say(h, { chat: chat.id, from: user, photoSizes: sizes });

    const body = lastVisionRequest();
    expect(body.model).toBe(VISION_MODEL);
    const last = body.messages.at(-1)!;
    expect(last.content).toEqual([
      { type: "text", text: "Describe this picture." },
      { type: "image_url", image_url: { url: dataUrl("image/png", sizes[2]!.bytes), detail: "high" } },
    ]);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("You said: Describe this picture. (with 1 image)");

    // The Bot API file URL carries the token: nothing of it reaches OpenAI or the logs.
    const sent = JSON.stringify(h.openai.requests.slice(before));
    const secret = h.telegram.token.split(":")[1]!;
    expect(sent).not.toContain(secret);
    expect(sent).not.toContain("/file/bot");
    expect(h.logs.join("")).not.toContain(secret);

    const turns = await h.app.deps.history.load(historyKey(chat.id));
    const photo = h.telegram.messages(chat.id).find((m) => m.photo)!;
    // 1024×768 at high detail: already within 2048 and its short side is 768 → 2×2 tiles → 4·170 + 85.
    expect(turns[0]!.images).toEqual([
      { fileId: photo.photo![2]!.file_id, width: 1024, height: 768, detail: "high", tokens: 765, fileSize: photo.photo![2]!.file_size },
    ]);
    expect(JSON.stringify(turns)).not.toContain("base64");
  });

  it("still sees the picture in a follow-up question (downloaded again by file_id)", async () => {
    const { user, chat } = newPrivateChat(h);
    const sizes = photoSizes(30);
    h.openai.enqueue({ text: "A red car parked by a lake." }, { text: "It is red." });
    await say(h, { chat: chat.id, from: user, photoSizes: sizes, caption: "What is in this photo?" });
    await say(h, { chat: chat.id, from: user, text: "and what colour is the car?" });

    const body = lastVisionRequest();
    expect(body.model).toBe(VISION_MODEL);
    expect(body.messages.slice(1).map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(body.messages[1]!.content).toEqual([
      { type: "text", text: "What is in this photo?" },
      { type: "image_url", image_url: { url: dataUrl("image/png", sizes[2]!.bytes), detail: "high" } },
    ]);
    expect(body.messages.at(-1)!.content).toBe("and what colour is the car?");
    expect(JSON.stringify(body)).not.toContain(h.telegram.token.split(":")[1]!);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("It is red.");
  });

  it("answers a group photo whose caption mentions the bot, and ignores one that does not", async () => {
    const { user, chat } = newGroup(h);
    const sizes = photoSizes(40);
    const requests = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, photoSizes: sizes, caption: "holiday pic" });
    expect(h.openai.chatRequests().length).toBe(requests);
    expect(h.telegram.botMessages(chat.id)).toEqual([]);

    const asked = h.telegram.userSends({ chat: chat.id, from: user, photoSizes: sizes, caption: "@test_ai_bot what colour is the sky?" });
    await h.app.whenHandled(h.app.handled + 1);
    const last = lastVisionRequest().messages.at(-1)!;
    expect(last.content).toEqual([
      { type: "text", text: `${user.first_name}: what colour is the sky?` },
      { type: "image_url", image_url: { url: dataUrl("image/png", sizes[2]!.bytes), detail: "high" } },
    ]);
    const answer = h.telegram.botMessages(chat.id)[0]!;
    expect(answer.reply_to_message_id).toBe(asked.message_id);
    expect(answer.text).toContain("what colour is the sky? (with 1 image)");
  });

  it("answers `/ask question` sent as a reply to a photo in a group, and a caption starting with /ask", async () => {
    const { user, chat } = newGroup(h);
    const sizes = photoSizes(50);
    const photo = h.telegram.userSends({ chat: chat.id, from: user, photoSizes: sizes });
    await h.app.whenHandled(h.app.handled + 1);
    await say(h, { chat: chat.id, from: user, text: "/ask how many birds are there?", replyTo: photo.message_id });
    expect(lastVisionRequest().model).toBe(VISION_MODEL);
    expect(imageParts(lastVisionRequest()).map((p) => p.url)).toEqual([dataUrl("image/png", sizes[2]!.bytes)]);
    expect(lastVisionRequest().messages.at(-1)!.content).toContainEqual({ type: "text", text: `${user.first_name}: how many birds are there?` });

    // A fresh group each, so the group's message pacing does not slow the test down.
    const second = newGroup(h);
    const other = photoSizes(60);
    await say(h, { chat: second.chat.id, from: second.user, photoSizes: other, caption: "/ask is this a cat?" });
    const last = lastVisionRequest().messages.at(-1)!.content as unknown[];
    expect(last[0]).toEqual({ type: "text", text: `${second.user.first_name}: is this a cat?` });
    expect(imageParts({ messages: [lastVisionRequest().messages.at(-1)!] })[0]!.url).toBe(dataUrl("image/png", other[2]!.bytes));
    // Any other /ask still goes to the ask feature (private chat: no group pacing to wait for).
    const third = newPrivateChat(h);
    await say(h, { chat: third.chat.id, from: third.user, text: "/ask plain question" });
    expect(lastVisionRequest().model).toBe(h.config.openai.model);
    expect(lastVisionRequest().messages.at(-1)!.content).toBe("plain question");
  });

  it.each([
    ["png", "image/png", () => makePng(300, 200, 4)],
    ["jpg", "image/jpeg", () => makeJpeg(64, 48)],
    ["webp", "image/webp", () => makeWebp(50, 40)],
    ["gif", "image/gif", () => makeGif(30, 20)],
  ])("reads an image document (.%s) the same way", async (ext, mime, make) => {
    const { user, chat } = newPrivateChat(h);
    const bytes = make();
    await say(h, { chat: chat.id, from: user, document: { bytes, file_name: `picture.${ext}`, mime_type: mime }, caption: "what is this?" });
    const last = lastVisionRequest().messages.at(-1)!;
    expect(last.content).toEqual([
      { type: "text", text: "what is this?" },
      { type: "image_url", image_url: { url: dataUrl(mime, bytes), detail: "high" } },
    ]);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("You said: what is this? (with 1 image)");
  });

  it("leaves other documents to the documents feature: random bytes named .pdf are a damaged file, the model is not called", async () => {
    const { user, chat } = newPrivateChat(h);
    const requests = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, document: { bytes: seededBytes(2000, 5), file_name: "report.pdf", mime_type: "application/pdf" } });
    expect(h.openai.chatRequests().length).toBe(requests);
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual([
      "This file is damaged or isn't what its name says, so I can't read it.",
    ]);
  });

  it("refuses a too-large picture with a clear reply, without downloading it", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh" });
    const requests = h.openai.chatRequests().length;
    const from = h.telegram.calls.length;
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(makePng(8, 8, 1));
    await say(h, { chat: chat.id, from: user, document: { bytes: big, file_name: "huge.png", mime_type: "image/png" } });
    expect(h.openai.chatRequests().length).toBe(requests);
    expect(h.telegram.calls.slice(from).some((c) => c.method === "getFile")).toBe(false);
    expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["这张图片太大了（最多 10 MB），请发送小一点的。"]);
  });
});

describe("cancellation", () => {
  it("aborts an image generation in flight when the bot shuts down, and says so", async () => {
    const own = await startHarness({ gracePeriodMs: 200 });
    try {
      const { user, chat } = newPrivateChat(own);
      own.openai.enqueueImages({ stallMs: 20_000 });
      const target = own.app.handled + 1;
      own.telegram.userSends({ chat: chat.id, from: user, text: "/image a very slow picture" });
      await own.telegram.waitFor((c) => c.method === "sendChatAction" && Number(c.params.chat_id) === chat.id);
      await own.app.stop("test");
      await own.app.whenHandled(target, 1000);
      expect(own.telegram.botMessages(chat.id).map((m) => m.text)).toEqual(["The answer was stopped."]);
    } finally {
      await own.close();
    }
  });
});

describe("limits", () => {
  it("counts /image against the daily cost budget and refuses once it is spent", async () => {
    // gpt-image-1 at its default size and quality costs a few cents: one picture fits 5 cents, a second does not.
    const own = await startHarness({ env: { DAILY_COST_LIMIT_PER_USER_USD: "0.05" } });
    try {
      const { user, chat } = newPrivateChat(own);
      own.openai.enqueueImages({ image: { bytes: makePng(16, 16, 1) } }, { image: { bytes: makePng(16, 16, 2) } });
      await say(own, { chat: chat.id, from: user, text: "/image first picture" });
      await say(own, { chat: chat.id, from: user, text: "/image second picture" });
      expect(own.openai.requests.filter((r) => r.path === "/v1/images/generations")).toHaveLength(1);
      const [photo, refusal] = own.telegram.botMessages(chat.id);
      expect(photo!.photo).toBeDefined();
      expect(refusal!.photo).toBeUndefined();
      expect(refusal!.text).toMatch(/daily spending limit/);
    } finally {
      await own.close();
    }
  });
});

describe("pictures within limits", () => {
  let own: Harness;
  let clock = new Date("2026-08-01T10:00:00Z");
  beforeAll(async () => {
    own = await startHarness({
      env: { OPENAI_VISION_MODEL: VISION_MODEL, RATE_LIMIT_MAX_CALLS: "1", MAX_PICTURE_MB_PER_REQUEST: "0.4" },
      now: () => clock,
    });
  });
  afterAll(() => own.close());
  /** A new minute, so the rate limit of one call a minute has room again. */
  const nextMinute = () => (clock = new Date(clock.getTime() + 61_000));
  const getFiles = (from: number) => own.telegram.calls.slice(from).filter((c) => c.method === "getFile").map((c) => String(c.params.file_id));
  const lastRequest = () => own.openai.chatRequests().at(-1)!;

  it("checks the rate limit before downloading anything", async () => {
    nextMinute();
    const { user, chat } = newPrivateChat(own);
    await say(own, { chat: chat.id, from: user, text: "a question first" });
    const requests = own.openai.chatRequests().length;
    const from = own.telegram.calls.length;
    await say(own, { chat: chat.id, from: user, photoSizes: [{ bytes: makePng(320, 240, 70), width: 320, height: 240 }] });
    expect(own.openai.chatRequests().length).toBe(requests);
    expect(own.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^You're asking faster than this bot allows/);
    expect(getFiles(from)).toEqual([]);
  });

  it("never downloads a size over 2,048 px: of a 4096×4096 photo it fetches the 2048×2048 size", async () => {
    nextMinute();
    const { user, chat } = newPrivateChat(own);
    const sizes = [90, 1024, 2048, 4096].map((side) => ({ bytes: makeJpeg(side, side), width: side, height: side }));
    const from = own.telegram.calls.length;
    const sent = own.telegram.userSends({ chat: chat.id, from: user, photoSizes: sizes });
    await own.app.whenHandled(own.app.handled + 1);
    const [, , within, biggest] = sent.photo!;
    expect(getFiles(from)).toEqual([within!.file_id]);
    expect(getFiles(from)).not.toContain(biggest!.file_id);
    expect(imageParts(lastRequest()).map((p) => p.url)).toEqual([dataUrl("image/jpeg", sizes[2]!.bytes)]);
  });

  it("sends the newest pictures that fit MAX_PICTURE_MB_PER_REQUEST, skipping older ones without fetching them", async () => {
    const { user, chat } = newPrivateChat(own);
    // About 175 KB each: two fit in 0.4 MB, three do not.
    const pictures = [71, 72, 73].map((seed) => makePng(320, 240, seed));
    expect(pictures[0]!.length * 2).toBeLessThan(0.4 * 1024 * 1024);
    expect(pictures[0]!.length * 3).toBeGreaterThan(0.4 * 1024 * 1024);
    const ids: string[] = [];
    for (const bytes of pictures) {
      nextMinute();
      const sent = own.telegram.userSends({ chat: chat.id, from: user, photoSizes: [{ bytes, width: 320, height: 240 }] });
      await own.app.whenHandled(own.app.handled + 1);
      ids.push(sent.photo![0]!.file_id);
    }
    // The third photo's request: itself and the second; the first no longer fits.
    expect(imageParts(lastRequest()).map((p) => p.url)).toEqual([dataUrl("image/png", pictures[1]!), dataUrl("image/png", pictures[2]!)]);

    nextMinute();
    const from = own.telegram.calls.length;
    await say(own, { chat: chat.id, from: user, text: "which of them is brightest?" });
    expect(imageParts(lastRequest()).map((p) => p.url)).toEqual([dataUrl("image/png", pictures[1]!), dataUrl("image/png", pictures[2]!)]);
    expect(getFiles(from).sort()).toEqual([ids[1]!, ids[2]!].sort());
    // The first picture's turn is still in the conversation, as text.
    expect(lastRequest().messages.filter((m) => m.role === "user")).toHaveLength(4);
  });

  it("counts an image document at its most until it is read, then keeps what it really costs", async () => {
    nextMinute();
    const { user, chat } = newPrivateChat(own);
    const bytes = makePng(300, 200, 74);
    await say(own, { chat: chat.id, from: user, document: { bytes, file_name: "chart.png", mime_type: "image/png" }, caption: "what is this?" });
    expect(imageParts(lastRequest()).map((p) => p.url)).toEqual([dataUrl("image/png", bytes)]);
    const [turn] = await own.app.deps.history.load(historyKey(chat.id));
    // 300×200 at high detail: one tile.
    expect(turn!.images).toEqual([{ fileId: expect.any(String) as string, width: 300, height: 200, detail: "high", tokens: 255, fileSize: bytes.length }]);
    expect(turn!.tokens).toBeLessThan(255 + 50);
  });

  it("downloads a picture once for questions about it in two chats at the same time", async () => {
    nextMinute();
    const a = newGroup(own);
    const b = newGroup(own);
    const sizes = [{ bytes: makePng(320, 240, 80), width: 320, height: 240 }];
    // A photo posted in A without the bot being asked; then a question about that same file in each chat at once
    // (a file_id works in every chat, e.g. for a forwarded photo).
    const original = own.telegram.userSends({ chat: a.chat.id, from: a.user, photoSizes: sizes });
    await own.app.whenHandled(own.app.handled + 1);
    const photo = original.photo!;
    own.telegram.latencyMs = 150;
    try {
      const from = own.telegram.calls.length;
      const target = own.app.handled + 2;
      for (const g of [a, b]) {
        own.telegram.pushUpdate({
          message: {
            message_id: 5000 + g.chat.id % 1000,
            date: Math.floor(Date.now() / 1000),
            chat: { id: g.chat.id, type: "supergroup", title: g.chat.title },
            from: { ...g.user, is_bot: false },
            photo,
            caption: "/ask what is this?",
            caption_entities: [{ type: "bot_command", offset: 0, length: 4 }],
          },
        });
      }
      await own.app.whenHandled(target);
      expect(getFiles(from)).toEqual([photo[0]!.file_id]);
    } finally {
      own.telegram.latencyMs = 0;
    }
    for (const g of [a, b]) expect(own.telegram.botMessages(g.chat.id).at(-1)!.text).toContain("(with 1 image)");
  });
});
