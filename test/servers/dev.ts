// Watch the bot by hand: `npx tsx test/servers/dev.ts` starts the fake Telegram and the fake OpenAI, prints the
// environment to start the bot against them, and turns each stdin line into a user message (private chat; prefix
// `g: ` for the group chat). Every call the bot makes is printed as it happens.
import { createInterface } from "node:readline";
import { startBotApiServer, type Call } from "./bot-api.js";
import { startOpenAIServer } from "./openai.js";

const USER = { id: 1001, first_name: "Alice", username: "alice_user", language_code: "en" };
const GROUP_ID = -1001000000001;

const telegram = await startBotApiServer();
const openai = await startOpenAIServer();
telegram.addUser(USER);
telegram.addChat({ id: USER.id, type: "private", first_name: USER.first_name, username: USER.username });
telegram.addChat({ id: GROUP_ID, type: "supergroup", title: "Dev group" });
telegram.setChatMember(GROUP_ID, USER, "creator");
// Slow enough to watch the answer stream in.
openai.setDefault((body) => {
  const last = [...body.messages].reverse().find((m) => m.role === "user");
  const text = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  return { text: `You said: ${text}\n\nThis is a **test** answer from the local OpenAI server, streamed in small chunks.`, chunkSize: 6, delayMs: 60 };
});

console.log("# Start the bot with:");
console.log(`TELEGRAM_API_ROOT=${telegram.apiRoot}`);
console.log(`TELEGRAM_BOT_TOKEN=${telegram.token}`);
console.log(`OPENAI_BASE_URL=${openai.baseURL}`);
console.log(`OPENAI_API_KEY=${openai.apiKey}`);
console.log(`# Type a line to send it as ${USER.first_name} in a private chat; "g: text" sends it in the group. Ctrl+D ends.`);

const abbreviate = (text: unknown, max = 100) => {
  const s = String(text ?? "").replace(/\n/g, "⏎");
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
};

telegram.on("call", (call: Call) => {
  if (call.method === "getUpdates" && call.status === 200) return;
  const time = new Date(call.at).toISOString().slice(11, 23);
  const p = call.params;
  let detail = "";
  if (call.method === "sendMessage" || call.method === "editMessageText") {
    detail = `chat=${String(p.chat_id)}${p.message_id !== undefined ? ` msg=${String(p.message_id)}` : ""} ${abbreviate(p.text)}`;
  } else if (call.method === "sendMessageDraft") {
    detail = `chat=${String(p.chat_id)} draft=${String(p.draft_id)} ${abbreviate(p.text)}`;
  } else if (call.method === "sendPhoto" || call.method === "editMessageCaption") {
    detail = `chat=${String(p.chat_id)} caption=${abbreviate(p.caption)}`;
  } else if (p.chat_id !== undefined) {
    detail = `chat=${String(p.chat_id)}`;
  }
  const outcome = call.error ? ` → ${call.error.error_code} ${call.error.description}` : "";
  console.log(`${time} ${call.method} ${detail}${outcome}`);
});

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const group = line.startsWith("g: ");
  const text = group ? line.slice(3) : line;
  if (text.trim() === "") return;
  const msg = telegram.userSends({ chat: group ? GROUP_ID : USER.id, from: USER.id, text });
  console.log(`>>> ${group ? "group" : "private"} message ${String(msg.message_id)}: ${abbreviate(text)}`);
});

const shutdown = async () => {
  await Promise.all([telegram.close(), openai.close()]);
  process.exit(0);
};
lines.on("close", () => void shutdown());
process.on("SIGINT", () => void shutdown());
