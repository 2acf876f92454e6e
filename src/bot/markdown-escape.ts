/** Text shown literally inside Markdown the bot writes (a file name with * or _, a URL with brackets). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, "\\$&");
}
