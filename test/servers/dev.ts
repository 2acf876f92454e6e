// Watch the bot by hand: `npx tsx test/servers/dev.ts` starts the fake Telegram, the fake OpenAI (with deterministic
// embeddings), the test website and a fake SearXNG, prints the environment to start the bot against them, and turns
// each stdin line into a user message (private chat; prefix `g: ` for the group chat, `p: ` for a photo,
// `d: path | caption` for a document, `r: text` for a reply to the last document, `v: ` for a voice note spoken by
// espeak-ng, `i: ` for an inline query that is then chosen into another chat, `gst: ` to summon the bot as a guest
// there). Every call the bot makes is printed as it happens.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { startBotApiServer, type Call } from "./bot-api.js";
import { startOpenAIServer } from "./openai.js";
import { startKuboServer } from "./kubo.js";
import { startOpenMeteoServer } from "./open-meteo.js";
import { solidPng } from "./openai.js";
import { makeSpeech } from "../fixtures/audio.js";
import { startWebsite, WEBSITE_PATHS } from "./website.js";
import { startSearxng } from "./searxng.js";
import { makeDocuments } from "../fixtures/documents.js";

const USER = { id: 1001, first_name: "Alice", username: "alice_user", language_code: "en" };
const GROUP_ID = -1001000000001;
/** A group the bot is not in: inline results are chosen into it, and guests are summoned there. */
const OTHER_ID = -1001000000002;

const telegram = await startBotApiServer();
const openai = await startOpenAIServer();
const kubo = await startKuboServer();
const meteo = await startOpenMeteoServer();
const website = await startWebsite();
const searx = await startSearxng({ website: website.origin });
const samples = await makeDocuments();
telegram.addUser(USER);
telegram.addChat({ id: USER.id, type: "private", first_name: USER.first_name, username: USER.username });
telegram.addChat({ id: GROUP_ID, type: "supergroup", title: "Dev group" });
telegram.setChatMember(GROUP_ID, USER, "creator");
telegram.addChat({ id: OTHER_ID, type: "supergroup", title: "Friends (bot not a member)" });
telegram.setChatMember(OTHER_ID, USER, "member");
telegram.removeBot(OTHER_ID);
// Slow enough to watch the answer stream in. A question about the weather calls the weather tool (as a real model
// would), "search …" calls web_search, and the tool's answer is read back; everything else is echoed, with a line
// naming the documents and excerpts that went with the question.
openai.setDefault((body) => {
  const last = body.messages.at(-1);
  if (last?.role === "tool") {
    const results = body.messages.filter((m) => m.role === "tool").map((m) => String(m.content));
    return { text: `Here is what the tools returned:\n\n${results.map((r) => `- \`${r.slice(0, 160)}\``).join("\n")}`, chunkSize: 6, delayMs: 40 };
  }
  const parts = Array.isArray(last?.content) ? (last.content as Array<{ type: string; text?: string }>) : [];
  const images = parts.filter((p) => p.type === "image_url").length;
  const text =
    typeof last?.content === "string"
      ? last.content
      : `${parts.map((p) => p.text ?? "").join(" ").trim()}${images ? ` (with ${images} image${images > 1 ? "s" : ""})` : ""}`;
  const place = /weather (?:in )?([\p{L} ]+)/iu.exec(text)?.[1]?.trim();
  if (place && body.tools?.length) {
    return { toolCalls: [{ name: "get_current_weather", arguments: JSON.stringify({ location: place, unit: "celsius" }) }], delayMs: 20 };
  }
  // "search …" calls web_search as a real model would when SEARXNG_URL is set.
  const query = /\bsearch (?:the web )?(?:for )?(.+)/i.exec(text)?.[1]?.trim();
  if (query && JSON.stringify(body.tools ?? []).includes("web_search")) {
    return { toolCalls: [{ name: "web_search", arguments: JSON.stringify({ query }) }], delayMs: 20 };
  }
  // What went with the question (documents, excerpts, pages), summed up so a person sees retrieval at work.
  const context = body.messages.at(-2);
  const material = context?.role === "system" && body.messages.length > 2 ? String(context.content) : "";
  const documents = [...material.matchAll(/<document title="([^"]+)"/g)].map((m) => m[1]);
  const excerpts = [...material.matchAll(/<excerpt title="([^"]+)"(?: url="[^"]+")? location="([^"]+)"/g)].map((m) => `${m[1]}, ${m[2]}`);
  const seen = [
    ...(documents.length ? [`Documents sent whole: ${documents.join("; ")}.`] : []),
    ...(excerpts.length ? [`Excerpts retrieved, nearest first: ${excerpts.map((e) => `[${e}]`).join(" ")}.`] : []),
    ...(material && !documents.length && !excerpts.length ? ["(A note came with the question: no web search here.)"] : []),
  ];
  return {
    text: `You said: ${text}\n\n${seen.length ? `${seen.join("\n")}\n\n` : ""}This is a **test** answer from the local OpenAI server, streamed in small chunks.`,
    chunkSize: 6,
    delayMs: 60,
  };
});
// /image answers with a real PNG, which the Kubo fake pins.
openai.setImageDefault(() => ({ image: { bytes: solidPng({ width: 256, height: 256 }, "dev") } }));

console.log("# Start the bot with:");
console.log(`TELEGRAM_API_ROOT=${telegram.apiRoot}`);
console.log(`TELEGRAM_BOT_TOKEN=${telegram.token}`);
console.log(`OPENAI_BASE_URL=${openai.baseURL}`);
console.log(`OPENAI_API_KEY=${openai.apiKey}`);
console.log(`IPFS_API_URL=${kubo.apiUrl}`);
console.log(`WEATHER_API_URL=${meteo.weatherApiUrl}`);
console.log(`GEOCODING_API_URL=${meteo.geocodingApiUrl}`);
console.log(`SEARXNG_URL=${searx.url}`);
console.log("WEB_FETCH_ALLOW_PRIVATE=true");
console.log(`# Test website: ${website.url(WEBSITE_PATHS.article)} (also ${WEBSITE_PATHS.pdf}, ${WEBSITE_PATHS.chineseArticle}, ${WEBSITE_PATHS.toMetadata}, ${WEBSITE_PATHS.big})`);
console.log(`# Sample documents in ${samples.dir}: ${["report.pdf", "guide.docx", "notes.md", "cities.csv", "locked.pdf", "scanned.pdf", "bomb.docx", "blob.bin"].join(", ")}`);

console.log(`# Type a line to send it as ${USER.first_name} in a private chat; "g: text" sends it in the group; "p: caption" sends a photo;`);
console.log(`# "v: text" sends a voice note of the text (espeak-ng); "i: question" types @bot question and picks the result`);
console.log(`# into the "Friends" group; "gst: question" summons the bot as a guest there.`);
console.log(`# "d: path | caption" sends a document ("gd: …" in the group); "r: text" replies to the last document (e.g. "r: /learn"). Ctrl+D ends.`);

/** A parameter as it would read in a log line (strings as they are, anything else as JSON). */
const show = (value: unknown): string => (typeof value === "string" ? value : (JSON.stringify(value) ?? ""));

const abbreviate = (text: unknown, max = 100) => {
  const s = show(text).replace(/\n/g, "⏎");
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
};

telegram.on("call", (call: Call) => {
  if (call.method === "getUpdates" && call.status === 200) return;
  const time = new Date(call.at).toISOString().slice(11, 23);
  const p = call.params;
  let detail = "";
  if (call.method === "sendMessage" || call.method === "editMessageText") {
    const where = p.inline_message_id !== undefined ? `inline=${show(p.inline_message_id)}` : `chat=${show(p.chat_id)}`;
    detail = `${where}${p.message_id !== undefined ? ` msg=${show(p.message_id)}` : ""} ${abbreviate(p.text)}`;
  } else if (call.method === "sendMessageDraft") {
    detail = `chat=${show(p.chat_id)} draft=${show(p.draft_id)} ${abbreviate(p.text)}`;
  } else if (call.method === "sendPhoto" || call.method === "editMessageCaption") {
    detail = `chat=${show(p.chat_id)} caption=${abbreviate(p.caption)}`;
  } else if (call.method === "sendVoice") {
    const voice = (call.result as { voice?: { duration: number; file_size: number } } | undefined)?.voice;
    detail = `chat=${show(p.chat_id)} ${voice ? `voice ${voice.duration} s, ${voice.file_size} bytes` : ""}${p.caption ? ` caption=${abbreviate(p.caption)}` : ""}`;
  } else if (call.method === "answerInlineQuery") {
    detail = abbreviate(p.results, 160);
  } else if (call.method === "answerGuestQuery") {
    detail = abbreviate(p.result, 160);
  } else if (p.chat_id !== undefined) {
    detail = `chat=${show(p.chat_id)}`;
  }
  const outcome = call.error ? ` → ${call.error.error_code} ${call.error.description}` : "";
  console.log(`${time} ${call.method} ${detail}${outcome}`);
});

const MIME: Record<string, string> = { pdf: "application/pdf", docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", md: "text/markdown", csv: "text/csv", json: "application/json", html: "text/html", txt: "text/plain" };
let lastDocument: { chat: number; messageId: number } | undefined;

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => void onLine(line).catch((err: unknown) => console.log(`!!! ${String(err)}`)));

async function onLine(line: string): Promise<void> {
  const doc = /^(g?)d:\s*([^|]+?)\s*(?:\|\s*(.*))?$/.exec(line);
  if (doc) {
    const [, group, path, caption] = doc;
    const chat = group ? GROUP_ID : USER.id;
    const file = path!.includes("/") ? path! : `${samples.dir}/${path}`;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (err) {
      console.log(`!!! cannot read ${file}: ${String(err)}`);
      return;
    }
    const name = basename(file);
    const mime = MIME[name.split(".").pop()!.toLowerCase()] ?? "application/octet-stream";
    const msg = telegram.userSends({ chat, from: USER.id, document: { bytes, file_name: name, mime_type: mime }, ...(caption ? { caption } : {}) });
    lastDocument = { chat, messageId: msg.message_id };
    console.log(`>>> ${group ? "group" : "private"} document ${String(msg.message_id)}: ${name} (${bytes.length} bytes) ${abbreviate(caption ?? "")}`);
    return;
  }
  if (line.startsWith("r:")) {
    if (!lastDocument) {
      console.log("!!! no document sent yet");
      return;
    }
    const text = line.slice(2).trim();
    const msg = telegram.userSends({ chat: lastDocument.chat, from: USER.id, text, replyTo: lastDocument.messageId });
    console.log(`>>> reply ${String(msg.message_id)} to document ${lastDocument.messageId}: ${abbreviate(text)}`);
    return;
  }
  if (line.startsWith("v:")) {
    // A voice note: the text spoken by espeak-ng (OGG/Opus), its transcript registered with the fake OpenAI.
    const text = line.slice(2).trim();
    if (!text) return;
    const clip = await makeSpeech(text);
    openai.addTranscript(clip.bytes, text);
    const msg = telegram.userSends({ chat: USER.id, from: USER.id, voice: { bytes: clip.bytes, duration: Math.ceil(clip.durationSeconds) } });
    console.log(`>>> private voice note ${String(msg.message_id)}: ${clip.durationSeconds.toFixed(1)} s, "${abbreviate(text)}"`);
    return;
  }
  if (line.startsWith("i:")) {
    // Inline mode: the user types @bot question, waits for the bot's result and picks it into the other group.
    const query = line.slice(2).trim();
    const queryId = telegram.userTypesInline({ from: USER.id, query, chatType: "supergroup" });
    console.log(`>>> inline query ${queryId}: ${abbreviate(query)}`);
    await telegram.waitFor((c) => c.method === "answerInlineQuery" && c.params.inline_query_id === queryId, 10_000);
    if (!telegram.inlineAnswer(queryId)?.results.length) return;
    const resultId = String((telegram.inlineAnswer(queryId)!.results[0] as { id: string }).id);
    const chosen = telegram.userChoosesInlineResult({ queryId, resultId, chat: OTHER_ID });
    console.log(`>>> chose result "${resultId}" into the Friends group: message ${String(chosen.message.message_id)}, inline=${chosen.inlineMessageId ?? "none"}`);
    return;
  }
  if (line.startsWith("gst:")) {
    const text = line.slice(4).trim();
    const msg = telegram.userSummonsGuest({ chat: OTHER_ID, from: USER.id, text: `@${telegram.botUser.username} ${text}` });
    console.log(`>>> guest message ${String(msg.message_id)} in the Friends group: ${abbreviate(text)}`);
    return;
  }
  if (line.startsWith("p:")) {
    // A photo (a generated 1024×768 PNG) with the rest of the line as its caption.
    const caption = line.slice(2).trim();
    const photo = solidPng({ width: 1024, height: 768 }, caption);
    const msg = telegram.userSends({ chat: USER.id, from: USER.id, photo, ...(caption ? { caption } : {}) });
    console.log(`>>> private photo ${String(msg.message_id)}: ${abbreviate(caption)}`);
    return;
  }
  const group = line.startsWith("g: ");
  const text = group ? line.slice(3) : line;
  if (text.trim() === "") return;
  const msg = telegram.userSends({ chat: group ? GROUP_ID : USER.id, from: USER.id, text });
  console.log(`>>> ${group ? "group" : "private"} message ${String(msg.message_id)}: ${abbreviate(text)}`);
}

const shutdown = async () => {
  await Promise.all([telegram.close(), openai.close(), kubo.close(), meteo.close(), website.close(), searx.close()]);
  process.exit(0);
};
lines.on("close", () => void shutdown());
process.on("SIGINT", () => void shutdown());
