# Voice notes, audio files and round videos (transcribed), /transcribe, /say and spoken answers.

cmd-say = Say a text in a voice message
cmd-transcribe = Transcribe a voice note (reply to it)
transcribe-usage = Reply to a voice note, an audio file or a round video with /transcribe and I'll write down what is said.
say-usage = Usage: /say text — or reply to a message with /say and I'll read it out.
say-too-long = That is too long to say in one voice message: {$length} characters, at most {$max}. Please shorten it.
voice-too-long = This recording is too long for me: at most {$minutes} min ({$seconds} s). Please send a shorter one.
voice-too-large = This file is too large for me to download (Telegram lets bots fetch at most {$max} MB).
voice-unsupported = I can't read this audio format. Voice notes, MP3, M4A, OGG, WAV, FLAC, WebM and MP4 work.
voice-download-failed = I couldn't download this recording from Telegram. Please send it again.
voice-silence = I couldn't hear anything in this recording.
voice-code-skipped = (code: see the text answer)
voice-answer-first-part = The beginning of the answer; the whole of it is in the text above.
speech-failed = I couldn't make the voice message. {$reason}
speech-forbidden = I can't send you voice messages: your privacy settings don't allow them.
speech-send-failed = I made the voice message but couldn't send it here.
