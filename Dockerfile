# Build: cargo-chef caches the dependency layer between source changes.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --bin a2a

# Runtime: slim Debian with CA certificates only.
FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/a2a a2a \
    && mkdir -p /var/lib/a2a && chown a2a /var/lib/a2a
COPY --from=builder /app/target/release/a2a /usr/local/bin/a2a
USER a2a
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
