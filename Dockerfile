# Multi-stage build of the staffroom binary.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config ca-certificates cmake make gcc g++ && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --bin staffroom && strip target/release/staffroom

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/staffroom --create-home staffroom
COPY --from=build /src/target/release/staffroom /usr/local/bin/staffroom
COPY config /etc/staffroom
USER staffroom
WORKDIR /var/lib/staffroom
ENV STAFFROOM__DATA_DIR=/var/lib/staffroom \
    STAFFROOM__HTTP__BIND=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/var/lib/staffroom"]
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["staffroom"]
CMD ["serve"]
