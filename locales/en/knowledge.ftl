# Documents, links, the chat's knowledge (/learn, /knowledge, /forget) and web search.

document-default-question = Summarise this document.
document-too-big = This file is too large: Telegram lets bots download files of at most { $max } MB.
document-download-failed = I couldn't download this file from Telegram. Please send it again.
document-encrypted = This PDF is protected with a password, so I can't read it. Please send a copy without the password.
document-corrupt = This file is damaged or isn't what its name says, so I can't read it.
document-no-text = This PDF has no text layer (it looks like a scan), so there is nothing for me to read. Send a version with text, or photos of the pages.
document-empty = This file is empty.
document-unsupported = I can't read this kind of file. I read PDF, Word (.docx), plain text, Markdown, HTML, CSV, JSON and source code.
document-too-large = This file would expand far beyond what a document needs (it looks like a zip bomb), so I won't open it.
document-too-long = This document is too long for me: at most { $max } chunks of about 500 tokens.

link-invalid-url = I can only open http and https links.
link-refused = I can't open { $url }: it leads to a private or internal network address.
link-not-found = I can't find the site { $host }.
link-too-large = The page at { $url } is larger than 5 MB, so I didn't read it.
link-timeout = { $url } took longer than 10 seconds to load, so I gave up.
link-redirects = { $url } redirects too many times, so I gave up.
link-status = { $url } answered with an error (HTTP { $status }).
link-network = I couldn't connect to { $host }.
link-aborted = Reading the link was stopped.

cmd-learn = Keep a document or page in this chat's knowledge
cmd-knowledge = What this chat has learned
cmd-forget = Remove a learned document

learn-usage = Reply /learn to a document, or send /learn followed by a link, and I'll keep it in this chat's knowledge.
learn-done = Learned “{ $title }”: { $chunks ->
        [one] 1 chunk
       *[other] { $chunks } chunks
    }, { $tokens } tokens. From now on every question in this chat can draw on it. /knowledge lists what I know.
learn-already = I already know “{ $title }”. /knowledge lists what I know.
learn-limit-documents = This chat's knowledge is full ({ $max ->
        [one] 1 document
       *[other] { $max } documents
    }). /forget one first.
learn-limit-chunks = This doesn't fit: the chat's knowledge holds at most { $max } chunks, { $used } are used and this needs { $needed }. /forget something first.

knowledge-empty = This chat hasn't learned anything yet. Reply /learn to a document, or send /learn https://… with a page.
knowledge-title = **What this chat has learned**
knowledge-line = { $n }. { $title } — { $size }, { $chunks ->
        [one] 1 chunk
       *[other] { $chunks } chunks
    }, added { $date }
knowledge-hint =
    { $admin ->
        [yes] Every question here draws on these. /forget N (or a button) removes one.
       *[no] Every question here draws on these. Only this group's admins can add or remove documents.
    }
knowledge-forget-button = Forget { $n }

forget-usage = Send /forget N with the number /knowledge shows.
forget-not-found = There is no document number { $n }. /knowledge lists them.
forget-done = Forgot “{ $title }”.
forget-gone = That document was already removed.

web-search-status = Searching the web for “{ $query }”…
web-read-status = Reading { $site }…
