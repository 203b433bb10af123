# Build: cargo-chef caches the dependency layer between source changes.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# The `dist` profile (fat LTO, one codegen unit) with jemalloc: the fastest binary, for
# a build that runs once per release; `cargo run --release` is the quick local build.
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --profile dist --features jemalloc --recipe-path recipe.json
COPY . .
RUN cargo build --profile dist --features jemalloc --bin a2a

# Runtime: slim Debian with CA certificates only. ca-certificates is not pinned (hadolint
# DL3008): the image should get the distribution's current CA list and its fixes, and a
# pinned version disappears from the mirrors when Debian updates it.
FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 a2a \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home /var/lib/a2a a2a \
    && mkdir -p /var/lib/a2a && chown 10001:10001 /var/lib/a2a
COPY --from=builder /app/target/dist/a2a /usr/local/bin/a2a
# Numeric, so that Kubernetes' runAsNonRoot can check it (the Helm chart runs as 10001).
USER 10001:10001
WORKDIR /var/lib/a2a
ENV A2A_LISTEN=0.0.0.0:8000
EXPOSE 8000
# The binary is its own probe (no curl in the image): /healthz on A2A_ADMIN_LISTEN when
# that is set, else on A2A_LISTEN.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["a2a", "health"]
# SIGTERM starts the graceful shutdown (readiness 503, drain, leases released).
STOPSIGNAL SIGTERM
ENTRYPOINT ["a2a"]
CMD ["serve"]
