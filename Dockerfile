# The gate as a container: a Docker action on GitHub, a plain image step in any other CI.

# Build a static binary: Rust on Alpine targets musl and links statically by default.
FROM rust:1.95.0-alpine3.23 AS build
RUN apk add --no-cache musl-dev
# The default on musl, written down: the binary runs on any Linux, with no libc to match.
ENV RUSTFLAGS="-C target-feature=+crt-static"
WORKDIR /src

# Dependencies first, in their own layer: a change to src/ does not rebuild every crate.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

COPY src ./src
# COPY keeps the files' old times; touch them so cargo rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked

# Small, with /bin/sh (GitLab runs job scripts through a shell) and CA certificates for TLS.
FROM alpine:3.23.5
RUN apk add --no-cache ca-certificates
COPY --from=build /src/target/release/mintlify-agent-gate /usr/local/bin/mintlify-agent-gate
# No USER and no WORKDIR on purpose: GitHub runs container actions as root in
# /github/workspace, and a non-root user could not write $GITHUB_OUTPUT there.
ENTRYPOINT ["/usr/local/bin/mintlify-agent-gate"]
