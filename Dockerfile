# syntax=docker/dockerfile:1
# The gate as a container, for GitLab, Tekton, `uses: docker://` and any other CI.
#
#   docker build .                                    compiles the gate from this source
#   docker build --build-arg BINARY_FROM=prebuilt .   assembles the image from the static
#       binaries in dist/linux-$TARGETARCH/ and the third-party notices in
#       dist/THIRD-PARTY-NOTICES.html (the release does this: no compiler, no emulation)
#
# Both carry the gate's own licenses in /usr/share/doc/mintlify-agent-gate/; the release's image
# also carries the notices (every crate compiled in, with its license text), which the release
# makes with cargo-about (.ci/notices.sh) before the image. A build from source has no notices:
# making them here would mean building cargo-about in this stage, minutes for each cold build,
# for an image one builds for oneself; run .ci/notices.sh and build from `prebuilt` to ship one.

# Where the binary comes from: the stage `source` or the stage `prebuilt` below.
ARG BINARY_FROM=source

# A static binary from source: Rust on Alpine targets musl and links statically by default.
FROM rust:1.95.0-alpine3.23 AS source
RUN apk add --no-cache musl-dev
# The default on musl, written down: the binary runs on any Linux, with no libc to match.
ENV RUSTFLAGS="-C target-feature=+crt-static"
WORKDIR /src

# Dependencies first, in their own layer: a change to src/ does not rebuild every crate.
COPY Cargo.toml Cargo.lock ./
# (src/bin/demo.rs too: the manifest names it, though only `--features demo` builds it.)
RUN mkdir -p src/bin \
    && echo 'fn main() {}' > src/main.rs \
    && cp src/main.rs src/bin/demo.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

COPY src ./src
# COPY keeps the files' old times; touch them so cargo rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && mkdir -p /out/doc \
    && cp target/release/mintlify-agent-gate /out/mintlify-agent-gate

# The release's static binary for the platform being built (amd64 or arm64).
FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/mintlify-agent-gate /out/mintlify-agent-gate
COPY dist/THIRD-PARTY-NOTICES.html /out/doc/

# A stage of this file, chosen by BINARY_FROM, not an image to pin.
# hadolint ignore=DL3006
FROM ${BINARY_FROM} AS binary

# Small, with /bin/sh (GitLab runs job scripts through a shell) and the CA certificates of
# Alpine's base (ca-certificates-bundle). No RUN here, so a foreign platform needs no emulation.
FROM alpine:3.23.5
# The release sets the repository's own URL; GHCR links the package to it.
ARG SOURCE=https://github.com/OWNER/mintlify-agent-gate
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.description="Wait on a Mintlify agent job in CI and turn its result into a pass or a fail" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=binary --chmod=0755 /out/mintlify-agent-gate /usr/local/bin/mintlify-agent-gate
COPY LICENSE-MIT LICENSE-APACHE /usr/share/doc/mintlify-agent-gate/
COPY --from=binary /out/doc/ /usr/share/doc/mintlify-agent-gate/
ENTRYPOINT ["/usr/local/bin/mintlify-agent-gate"]
