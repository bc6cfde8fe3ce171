# Switchboard in one image: nginx, the responders, the sandbox and cron.
# Built with the same Makefile and scripts as `make run`, so the two cannot
# drift.
#   docker build -t switchboard .
#   docker run --rm -p 8080:8080 -p 3000:3000 -p 3001:3001 -p 8081:8081 \
#       -v switchboard-var:/opt/switchboard/var switchboard
# `docker stop` stops it cleanly (exit code 0) and a new container on the
# same volume starts again with the same keys, tokens and database.

FROM debian:12 AS build
WORKDIR /src
# Only what `make build` needs: SB_DEPS=build also applies when make calls
# scripts/deps itself, so the test toolchain stays out.
ENV SB_DEPS=build
COPY scripts/deps scripts/deps
RUN scripts/deps
# .dockerignore keeps the host's build/, var/ and .git out: a clean build.
COPY . .
# Every binary make builds except the benchmark's responders (bare*),
# stripped.
RUN make -j"$(nproc)" build \
 && mkdir -p /out/bin \
 && find build/release/bin -maxdepth 1 -type f ! -name 'bare*' \
    -exec install -s -m 0755 {} /out/bin/ \;

FROM debian:12
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx spawn-fcgi multiwatch libfcgi0ldbl libcurl4 libsqlite3-0 libcjson1 \
    libsodium23 libssl3 sqlite3 curl jq cron ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /opt/switchboard switchboard
WORKDIR /opt/switchboard
COPY --from=build /out/bin build/release/bin
COPY db db
COPY etc etc
COPY nginx nginx
COPY scripts/stack scripts/cron scripts/
COPY cron cron
RUN mkdir -p var && chown switchboard:switchboard var \
 && crontab -u switchboard cron/crontab
# Listen on every interface inside the container; publish with -p.
ENV SB_LISTEN_ADDRESS=0.0.0.0 SB_VAR_DIR=/opt/switchboard/var
VOLUME /opt/switchboard/var
EXPOSE 8080 3000 3001 8081
HEALTHCHECK CMD curl -fsS "http://127.0.0.1:${SB_GATEWAY_PORT:-8080}/health" || exit 1
# tini is PID 1: it reaps every process that exits (responders, nginx,
# cron's children) and passes docker stop's SIGTERM to the stack, which
# stops everything and exits 0.  cron (as root) runs the switchboard user's
# crontab; the stack runs in the foreground as that user, dropped with
# setpriv (no login session, so no PAM limits).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/bin/sh", "-c", "cron && exec setpriv --reuid switchboard --regid switchboard --init-groups -- scripts/stack run"]
