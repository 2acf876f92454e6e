// Watch the bot by hand: `npx tsx test/servers/dev.ts` starts the fake Telegram and the fake OpenAI, prints the
// environment to start the bot against them, and turns each stdin line into a user message (private chat; prefix
// `g: ` for the group chat). Every call the bot makes is printed as it happens.
import { createInterface } from "node:readline";
import { startBotApiServer, type Call } from "./bot-api.js";
import { startOpenAIServer } from "./openai.js";
import { startKuboServer } from "./kubo.js";
import { startOpenMeteoServer } from "./open-meteo.js";
import { solidPng } from "./openai.js";

const USER = { id: 1001, first_name: "Alice", username: "alice_user", language_code: "en" };
const GROUP_ID = -1001000000001;

const telegram = await startBotApiServer();
const openai = await startOpenAIServer();
const kubo = await startKuboServer();
const meteo = await startOpenMeteoServer();
telegram.addUser(USER);
telegram.addChat({ id: USER.id, type: "private", first_name: USER.first_name, username: USER.username });
telegram.addChat({ id: GROUP_ID, type: "supergroup", title: "Dev group" });
telegram.setChatMember(GROUP_ID, USER, "creator");
// Slow enough to watch the answer stream in. A question about the weather calls the weather tool (as a real model
// would), and the tool's answer is read back; everything else is echoed.
openai.setDefault((body) => {
  const last = body.messages.at(-1);
  if (last?.role === "tool") {
    const results = body.messages.filter((m) => m.role === "tool").map((m) => String(m.content));
    return { text: `Here is what the weather service says:\n\n${results.map((r) => `- \`${r.slice(0, 160)}\``).join("\n")}`, chunkSize: 6, delayMs: 40 };
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
  return { text: `You said: ${text}\n\nThis is a **test** answer from the local OpenAI server, streamed in small chunks.`, chunkSize: 6, delayMs: 60 };
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
console.log(`# Type a line to send it as ${USER.first_name} in a private chat; "g: text" sends it in the group; "p: caption" sends a photo. Ctrl+D ends.`);

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
    detail = `chat=${show(p.chat_id)}${p.message_id !== undefined ? ` msg=${show(p.message_id)}` : ""} ${abbreviate(p.text)}`;
  } else if (call.method === "sendMessageDraft") {
    detail = `chat=${show(p.chat_id)} draft=${show(p.draft_id)} ${abbreviate(p.text)}`;
  } else if (call.method === "sendPhoto" || call.method === "editMessageCaption") {
    detail = `chat=${show(p.chat_id)} caption=${abbreviate(p.caption)}`;
  } else if (p.chat_id !== undefined) {
    detail = `chat=${show(p.chat_id)}`;
  }
  const outcome = call.error ? ` → ${call.error.error_code} ${call.error.description}` : "";
  console.log(`${time} ${call.method} ${detail}${outcome}`);
});

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
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
});

const shutdown = async () => {
  await Promise.all([telegram.close(), openai.close(), kubo.close(), meteo.close()]);
  process.exit(0);
};
lines.on("close", () => void shutdown());
process.on("SIGINT", () => void shutdown());
