# Switchboard in one image: nginx, the responders, the sandbox and cron.
# Built with the same Makefile and scripts as `make run`, so the two cannot
# drift.
#   docker build -t switchboard .
#   docker run --rm -p 8080:8080 -p 3000:3000 -p 3001:3001 -p 8081:8081 \
#       -v switchboard-var:/opt/switchboard/var switchboard

FROM debian:12 AS build
WORKDIR /src
COPY scripts/deps scripts/deps
RUN scripts/deps
COPY . .
RUN make build

FROM debian:12
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx spawn-fcgi libfcgi0ldbl libcurl4 libsqlite3-0 libcjson1 \
    libsodium23 sqlite3 curl cron ca-certificates util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /opt/switchboard switchboard
WORKDIR /opt/switchboard
COPY --from=build /src/build/release/bin build/release/bin
COPY db db
COPY etc etc
COPY nginx nginx
COPY scripts scripts
COPY cron cron
RUN mkdir -p var && chown switchboard:switchboard var \
 && crontab -u switchboard cron/crontab
# Listen on every interface inside the container; publish with -p.
ENV SB_LISTEN_ADDRESS=0.0.0.0 SB_VAR_DIR=/opt/switchboard/var
VOLUME /opt/switchboard/var
EXPOSE 8080 3000 3001 8081
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8080/health || exit 1
# cron (as root) runs the switchboard user's crontab; the stack runs in the
# foreground as that user and stops cleanly on docker stop.
CMD ["/bin/sh", "-c", "cron && exec runuser -u switchboard -- scripts/stack run"]
