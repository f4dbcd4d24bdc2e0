# syntax=docker/dockerfile:1

# ---- build: compile TypeScript to dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# ---- runtime: production dependencies + compiled output ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# The incident chart's bundled font (dist/investigate/chart.js loads ../../assets/fonts).
COPY assets ./assets
# Writable data dir for the embedded PGlite fallback (used only when DATABASE_URL is unset).
RUN mkdir -p /app/.tacit && chown node:node /app/.tacit
USER node
EXPOSE 3000
CMD ["node", "--enable-source-maps", "dist/main.js"]
