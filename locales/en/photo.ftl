# Photos and image documents read by the vision model.

photo-default-question = Describe this picture.
photo-too-large = This picture is too large for me (at most {$max} MB). Please send a smaller one.
photo-download-failed = I couldn't download this picture from Telegram. Please send it again.
photo-unreadable = I couldn't read this file as a PNG, JPEG, WebP or GIF picture.
