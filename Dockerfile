# Pictor: one image, Bun from npm (like a fresh clone), sharp's prebuilt libvips from npm.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# npm's prepare step runs scripts/build-web.sh, which skips the build without dev dependencies,
# and builds the embedded database's template into node_modules/.cache (src/db/pglite-template.ts).
COPY scripts/build-web.sh scripts/pglite-template.ts ./scripts/
COPY src/db/pglite-template.ts ./src/db/
# npm's postinstall applies patches/ (patch-package): a fix to postgres.js (see the patch).
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund

# The web app (web/ → web/dist), built with the dev dependencies it needs (Vite, Preact).
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-web.sh scripts/pglite-template.ts ./scripts/
COPY src/db/pglite-template.ts ./src/db/
COPY patches ./patches
COPY web ./web
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data PORT=3000 HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY db ./db
# The text layer's bundled font (src/modules/transform/font.ts), and a fontconfig that sees only it
# (the image has no system fonts or /etc/fonts, and Pango must never look for one).
COPY assets ./assets
ENV FONTCONFIG_FILE=/app/assets/fonts/fonts.conf
COPY --from=web /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains in-flight requests (SHUTDOWN_TIMEOUT_MS) before exiting.
STOPSIGNAL SIGTERM
CMD ["node_modules/.bin/bun", "src/main.ts"]
