import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEncoding } from "js-tiktoken";
import { botText, newGroup, newPrivateChat, say, startHarness, type Harness, shownMessages } from "../helpers/harness.js";
import { solidPng } from "../servers/openai.js";
import { PRICES, PRICES_AS_OF, formatUsd } from "../../src/ai/pricing.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

// Another tokenizer library as the reference for the bot's counts (the bot counts with gpt-tokenizer's tables).
const o200k = getEncoding("o200k_base");
const r50k = getEncoding("r50k_base");
const count = (enc: typeof o200k, text: string) => enc.encode(text, [], []).length;
const inputPrice = () => PRICES[h.config.openai.model]!.input;

/** The last bot message in a chat. */
const lastReply = (chatId: number) => shownMessages(h, chatId).at(-1)!.text!;

describe("/tokens", () => {
  it.each([
    ["English", "Hello, world! Tokens are common sequences of characters found in text."],
    ["Chinese", "看了山和海，也看了人山和人海。"],
    ["mixed", "GPT-4o 的 tokenizer 把「人工智能」切成几个 token？Let's count: 1234567 🤖"],
  ])("counts %s text for the chat's model and for GPT-3, with characters and cost", async (_, text) => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: `/tokens ${text}` });
    const reply = lastReply(chat.id);
    const tokens = count(o200k, text);
    expect(reply).toContain(`Tokens: ${tokens} (${h.config.openai.model}, o200k_base)`);
    expect(reply).toContain(`GPT-3 (r50k_base): ${count(r50k, text)}`);
    expect(reply).toContain(`Characters: ${[...text].length}`);
    expect(reply).toContain(`Estimated input cost: ${formatUsd((tokens * inputPrice()) / 1e6)} (prices as of ${PRICES_AS_OF})`);
    if (text.startsWith("看了")) {
      // The notes' example: 32 tokens for GPT-3, 14 for the o200k models.
      expect(reply).toContain("Tokens: 14 (");
      expect(reply).toContain("GPT-3 (r50k_base): 32");
    }
  });

  it("counts the message it replies to, and shows the pieces with -v", async () => {
    const { user, chat } = newGroup(h);
    const text = "hello world, 你好";
    const original = h.telegram.userSends({ chat: chat.id, from: user, text });
    await h.app.whenHandled(h.app.handled + 1);
    await say(h, { chat: chat.id, from: user, text: "/tokens -v", replyTo: original.message_id });
    const reply = lastReply(chat.id);
    const ids = o200k.encode(text, [], []);
    expect(reply).toContain(`Tokens: ${ids.length} (`);
    // One line per token: its id and the text it decodes to, as a JSON string.
    expect(reply).toContain(`${ids[0]}  "hello"`);
    expect(reply).toContain(`" world"`);
    for (const id of ids) expect(reply).toMatch(new RegExp(`^ *${id}  "`, "m"));
  });

  it("truncates a long list of pieces", async () => {
    const { user, chat } = newPrivateChat(h);
    const text = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    await say(h, { chat: chat.id, from: user, text: `/tokens --pieces ${text}` });
    const total = count(o200k, text);
    expect(lastReply(chat.id)).toContain(`… and ${total - 40} more`);
  });

  it("gives a photo's token cost at low and high detail from its largest size", async () => {
    const { user, chat } = newGroup(h, {}, { language_code: "en" });
    const bytes = solidPng({ width: 8, height: 8 });
    // OpenAI's documented example: 2048×4096 in high detail is 2048→768 by 1536 → 6 tiles → 85 + 6 × 170 = 1105.
    const photo = h.telegram.userSends({
      chat: chat.id,
      from: user,
      photoSizes: [
        { bytes, width: 160, height: 320 },
        { bytes, width: 2048, height: 4096 },
        { bytes, width: 640, height: 1280 },
      ],
    });
    await h.app.whenHandled(h.app.handled + 1);
    await say(h, { chat: chat.id, from: user, text: "/tokens", replyTo: photo.message_id });
    const reply = lastReply(chat.id);
    expect(reply).toContain("Photo 2048×4096");
    expect(reply).toContain(`low detail: 85 tokens, ${formatUsd((85 * inputPrice()) / 1e6)}`);
    expect(reply).toContain(`high detail: 1,105 tokens, ${formatUsd((1105 * inputPrice()) / 1e6)}`);
  });

  it("counts for the model answers use: a chat's choice no longer in ALLOWED_MODELS falls back", async () => {
    const { user, chat } = newPrivateChat(h);
    // Chosen earlier with /settings; the operator has since removed it from ALLOWED_MODELS.
    await h.app.deps.settings.update(chat.id, { model: "gpt-4" });
    await say(h, { chat: chat.id, from: user, text: "/tokens hello" });
    expect(lastReply(chat.id)).toContain(`Tokens: 1 (${h.config.openai.model}, o200k_base)`);
  });

  it("in a forum topic, does not count the topic's opening message every message points at", async () => {
    const { user, chat } = newGroup(h, { is_forum: true });
    const opening = h.telegram.userSends({ chat: chat.id, from: user, text: "Topic: tokens" });
    await h.app.whenHandled(h.app.handled + 1);
    const thread = opening.message_id;
    await say(h, { chat: chat.id, from: user, text: "/tokens", threadId: thread, replyTo: thread });
    expect(lastReply(chat.id)).toMatch(/^Usage: \/tokens/);
  });

  it("explains itself without text, in the user's language", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh-hans" });
    await say(h, { chat: chat.id, from: user, text: "/tokens" });
    expect(lastReply(chat.id)).toMatch(/^用法：\/tokens/);
    await say(h, { chat: chat.id, from: user, text: "/tokens 看了山和海，也看了人山和人海。" });
    expect(lastReply(chat.id)).toContain("令牌数：14（");
  });
});

describe("/usage", () => {
  it("adds up what each answer used, for the user and for the chat", async () => {
    const { user, chat } = newGroup(h);
    const other = newGroup(h).user;
    const usages = [
      { prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 200 },
      { prompt_tokens: 800, completion_tokens: 100 },
      { prompt_tokens: 500, completion_tokens: 50 },
    ];
    h.openai.enqueue(...usages.map((usage, i) => ({ text: `answer ${i}`, usage })));
    await say(h, { chat: chat.id, from: user, text: "/ask one" });
    await say(h, { chat: chat.id, from: user, text: "/ask two" });
    await say(h, { chat: chat.id, from: other, text: "/ask three" });
    await say(h, { chat: chat.id, from: user, text: "/usage" });

    const price = PRICES[h.config.openai.model]!;
    const cost = (us: typeof usages) =>
      us.reduce((sum, u) => {
        const cached = u.cached_tokens ?? 0;
        return sum + ((u.prompt_tokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + u.completion_tokens * price.output) / 1e6;
      }, 0);
    const line = (period: string, us: typeof usages) => {
      const prompt = us.reduce((s, u) => s + u.prompt_tokens, 0);
      const completion = us.reduce((s, u) => s + u.completion_tokens, 0);
      return `${period}: ${(prompt + completion).toLocaleString("en-US")} tokens (in ${prompt.toLocaleString("en-US")}, 200 of them cached; out ${completion}), ${formatUsd(cost(us))}`;
    };
    const reply = lastReply(chat.id);
    const [mine, chatPart] = reply.split("This chat");
    for (const period of ["Today", "This month", "Total"]) {
      expect(mine).toContain(line(period, usages.slice(0, 2)));
      expect(chatPart).toContain(line(period, usages));
    }
  });

  it("shows one summary in a private chat, and nothing yet for a new user", async () => {
    const { user, chat } = newPrivateChat(h, { language_code: "zh" });
    await say(h, { chat: chat.id, from: user, text: "/usage" });
    const reply = botText(h, chat.id);
    expect(reply).toContain("你的用量");
    expect(reply).toContain("今天：暂无");
    expect(reply).not.toContain("本聊天\n");
  });
});

describe("money in /usage", () => {
  let b: Harness;
  beforeAll(async () => {
    b = await startHarness({ env: { DAILY_COST_LIMIT_PER_USER_USD: "5000", DAILY_COST_LIMIT_PER_CHAT_USD: "10000" } });
  });
  afterAll(() => b.close());

  it("shows every amount of one reply in the one format, from fractions of a cent to thousands", async () => {
    const { user: spender, chat } = newGroup(b);
    const asker = newGroup(b).user;
    // One very expensive answer (thousands of dollars) and one that costs a fraction of a cent.
    b.openai.enqueue(
      { text: "expensive", usage: { prompt_tokens: 1_000_000_000, completion_tokens: 1_000_000_000 } },
      { text: "cheap", usage: { prompt_tokens: 10, completion_tokens: 5 } },
    );
    await say(b, { chat: chat.id, from: spender, text: "/ask a lot" });
    await say(b, { chat: chat.id, from: asker, text: "/ask a little" });
    await say(b, { chat: chat.id, from: asker, text: "/usage" });

    const price = PRICES[b.config.openai.model]!;
    const big = (1e9 * price.input + 1e9 * price.output) / 1e6;
    const small = (10 * price.input + 5 * price.output) / 1e6;
    const reply = shownMessages(b, chat.id).at(-1)!.text!;
    expect(reply).toContain(formatUsd(small));
    expect(reply).toContain(formatUsd(small + big));
    expect(reply).toContain(`You: ${formatUsd(5000 - small)} of $5,000.00 left`);
    expect(reply).toContain(`This chat: ${formatUsd(10_000 - small - big)} of $10,000.00 left`);
    // Every amount in the reply reads back as exactly what formatUsd writes for it: no second format.
    const amounts = reply.match(/<?\$[\d,.]+/g) ?? [];
    expect(amounts.length).toBeGreaterThanOrEqual(10);
    for (const amount of amounts) expect(formatUsd(Number(amount.replace(/[$,]/g, "")))).toBe(amount);
  });
});
