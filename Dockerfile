# cvmbot's container image: built with the Rust toolchain the project needs (Cargo.toml's
# rust-version), run as a non-root user on a small distroless base (glibc and CA certificates,
# no shell, no package manager). The SQLite database lives on a volume at /var/lib/cvmbot;
# with PostgreSQL (compose.yaml) set CVMBOT_DATABASE__URL and nothing is kept in the container.
#
#   docker build -t cvmbot .
#   docker run -d --name cvmbot -v cvmbot-data:/var/lib/cvmbot \
#     -e DISCORD_TOKEN_FILE=/run/secrets/discord_token … cvmbot
#
# Secrets come from the environment or, better, from files named by DISCORD_TOKEN_FILE,
# TENCENTCLOUD_SECRET_ID_FILE and TENCENTCLOUD_SECRET_KEY_FILE (compose.yaml mounts them as
# secrets). The configuration is the built-in defaults plus CVMBOT_… variables, or a file
# mounted and named by CVMBOT_CONFIG.

ARG RUST_VERSION=1.94

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the target directory are cached between builds; the binary is copied out of
# the cache, which the next stage cannot see.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin cvmbot \
    && install -D -m 0755 target/release/cvmbot /out/usr/local/bin/cvmbot \
    && install -d -m 0700 /out/var/lib/cvmbot

FROM gcr.io/distroless/cc-debian12:nonroot
# distroless's nonroot user: uid and gid 65532.
COPY --from=build /out/usr/local/bin/cvmbot /usr/local/bin/cvmbot
COPY --from=build --chown=65532:65532 /out/var/lib/cvmbot /var/lib/cvmbot
USER 65532:65532
WORKDIR /var/lib/cvmbot
VOLUME ["/var/lib/cvmbot"]
ENV CVMBOT_DATABASE__URL=sqlite:///var/lib/cvmbot/cvmbot.db \
    CVMBOT_LOG__FORMAT=json \
    CVMBOT_SERVICE__LISTEN=0.0.0.0:9464 \
    MALLOC_ARENA_MAX=2
# The health and metrics endpoints (/healthz, /readyz, /metrics).
EXPOSE 9464
# cvmbot asks itself: the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/cvmbot", "healthcheck", "http://127.0.0.1:9464/healthz"]
# SIGTERM (docker stop) finishes the work in hand and hands the lease over.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/cvmbot"]
CMD ["run"]
