# The bot on the current Node LTS, as a non-root user, history on a volume. Starts like a clone: npm start.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci runs the prepare script (scripts/build-if-stale.mjs); without src/ yet it has nothing to build.
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# dist/ with the token tables (dist/**/encodings/*.bpe), then only what runs it.
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production STORE_URL=sqlite:///data/bot.sqlite
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scripts ./scripts
COPY locales ./locales
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# Same entry as a clone: npm start (scripts/start.mjs finds no sources to rebuild here and runs dist/main.js).
CMD ["npm", "start"]
