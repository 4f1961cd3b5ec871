#!/usr/bin/env python3
"""Generate the example register payloads in this directory.

Writes NNN-<host>-<container>.json (NNN = 001..200): one JSON object per
file, shaped as docker-api-notifier POSTs it to /api/v1/register for a
five-host homelab. Deterministic: every random choice comes from a
random.Random seeded with SEED plus the host and container name, and the
clock is fixed, so a re-run rewrites byte-identical files.

    python3 examples/payloads/generate.py          # (re)write the files
    python3 examples/payloads/generate.py --check  # exit 1 if they differ

Only documentation names (*.example, *.lab.example, *.home.arpa) and
private or loopback addresses appear.
"""

import datetime
import json
import os
import random
import re
import sys

SEED = 20261123
COUNT = 200
HERE = os.path.dirname(os.path.abspath(__file__))
# The notifiers' boot scans happen around this (fixed) moment.
NOW = datetime.datetime(2026, 11, 23, 14, 2, 11)

# Hosts, in file order. "style" varies how the notifier on that host fills
# in what it does not know, so both null and absent keys occur:
#   full     every core key, null when unknown; URLs always (maybe null)
#   nulls    every core key, null when unknown; URLs only when labelled
#   sparse   whatever is unknown left out; no exposure_observations (an
#            older notifier without exposure interpreters)
HOSTS = {
    "docker01": {"ip": "10.0.10.11", "style": "full", "ipv6": True},
    "docker02": {"ip": "10.0.10.12", "style": "nulls", "ipv6": False},
    "nas": {"ip": "10.0.10.20", "style": "full", "ipv6": True},
    "edge": {"ip": "10.0.20.2", "style": "nulls", "ipv6": False},
    "pi4": {"ip": "192.168.1.40", "style": "sparse", "ipv6": False},
}

DIGEST_REDIS = "sha256:" + "7a5c1f39e1f4b2a95a6e0c8d3b71f2e4a8c9d0b6e5f4a3b2c1d0e9f8a7b6c5d4"
DIGEST_PGVECTO = "sha256:" + "90724186f0a3517cf6914295b5ab410db9ce23190a2d9d0b9dd6463e3fa298f0"
DIGEST_NGINX = "sha256:" + "bc5eac5eafc581aeda3008b4b1f07ebba230de2f27d47767129a6a905c84f470"


def app(image, ports="", group=None, web=None, hc=False, icon=None, net=None):
    """One application: its image, ports in a small docker-like notation
    ("H:C[/proto]" published, "C[/proto]" published on the same port,
    "+C[/proto]" exposed only), the group label it usually carries, the
    container port of its web UI, whether the image has a HEALTHCHECK, its
    icon name and a network_mode ("host" or "service:<name>")."""
    return {"image": image, "ports": ports, "group": group, "web": web,
            "hc": hc, "icon": icon, "net": net}


M, MON, HOME, INFRA, FILES, DEV = ("Media", "Monitoring", "Home",
                                   "Infrastructure", "Files", "Dev")

APPS = {
    # media
    "sonarr": app("lscr.io/linuxserver/sonarr:latest", "8989", M, 8989, icon="sonarr.png"),
    "radarr": app("lscr.io/linuxserver/radarr:latest", "7878", M, 7878, icon="radarr.png"),
    "bazarr": app("lscr.io/linuxserver/bazarr:latest", "6767", M, 6767, icon="bazarr.png"),
    "prowlarr": app("lscr.io/linuxserver/prowlarr:1.26.1", "9696", M, 9696, icon="prowlarr.png"),
    "lidarr": app("lscr.io/linuxserver/lidarr:latest", "8686", M, 8686),
    "readarr": app("lscr.io/linuxserver/readarr:develop", "8787", M, 8787),
    "overseerr": app("lscr.io/linuxserver/overseerr:1.33.2", "5055", M, 5055, icon="overseerr.svg"),
    "jellyseerr": app("fallenbagel/jellyseerr:2.1.0", "5055", M, 5055, icon="jellyseerr.png"),
    "qbittorrent": app("lscr.io/linuxserver/qbittorrent:4.6.7", "8080 6881 6881/udp", M, 8080,
                       icon="qbittorrent.png"),
    "qbittorrent-vpn": app("lscr.io/linuxserver/qbittorrent:4.6.7", "+8080 +6881 +6881/udp", M,
                           8080, net="service:gluetun"),
    "gluetun": app("qmcgaw/gluetun:v3.39.1", "8080 8888 8388 8388/udp +8000", None, hc=True),
    "flaresolverr": app("ghcr.io/flaresolverr/flaresolverr:latest", "8191", M),
    "unpackerr": app("golift/unpackerr:0.14.5", "", M),
    "recyclarr": app("ghcr.io/recyclarr/recyclarr:7", "", M),
    "sabnzbd": app("lscr.io/linuxserver/sabnzbd:latest", "8085:8080", M, 8080),
    "jellyfin": app("jellyfin/jellyfin:10.10.3", "8096 8920 7359/udp 1900/udp", M, 8096, hc=True,
                    icon="https://icons.lab.example/png/jellyfin.png"),
    "plex": app("plexinc/pms-docker:1.41.2.9200-c6bbc1b53",
                "+32400 +3005 +8324 +32469 +1900/udp +32410/udp", M, 32400, hc=True,
                icon="plex.svg", net="host"),
    "tautulli": app("ghcr.io/tautulli/tautulli:v2.14.6", "8181", M, 8181, hc=True),
    "tdarr": app("ghcr.io/haveagitgat/tdarr:2.27.02", "8265 8266", M, 8265),
    "tdarr-node": app("ghcr.io/haveagitgat/tdarr_node:2.27.02", "+8268", M),
    "navidrome": app("deluan/navidrome:0.53.3", "4533", M, 4533, hc=True, icon="navidrome.png"),
    "audiobookshelf": app("ghcr.io/advplyr/audiobookshelf:2.17.2", "13378:80", M, 80),
    "kavita": app("jvmilazz0/kavita:0.8.4", "5000", M, 5000, hc=True),
    "calibre-web": app("lscr.io/linuxserver/calibre-web:0.6.24", "8083", M, 8083),
    "jellystat": app("cyfershepard/jellystat:1.1.0", "3003:3000", M, 3000),
    "pinchflat": app("ghcr.io/kieraneglin/pinchflat:v2024.11.14", "8945", M, 8945, hc=True),
    "metube": app("ghcr.io/alexta69/metube:latest", "8088:8081", M, 8081),
    "wizarr": app("ghcr.io/wizarrrr/wizarr:4.1.1", "5690", M, 5690),
    # monitoring
    "grafana": app("grafana/grafana:11.3.1", "3000", MON, 3000, icon="grafana.svg"),
    "prometheus": app("prom/prometheus:v2.55.1", "9090", MON, 9090, icon="prometheus.svg"),
    "alertmanager": app("prom/alertmanager:v0.27.0", "9093", MON, 9093),
    "loki": app("grafana/loki:3.2.1", "3100", MON),
    "promtail": app("grafana/promtail:3.2.1", "+9080", MON),
    "node-exporter": app("quay.io/prometheus/node-exporter:v1.8.2", "+9100", MON, net="host"),
    "cadvisor": app("gcr.io/cadvisor/cadvisor:v0.49.1", "8081:8080", MON, 8080, hc=True),
    "blackbox-exporter": app("prom/blackbox-exporter:v0.25.0", "9115", MON),
    "pushgateway": app("prom/pushgateway:v1.10.0", "9091", MON),
    "karma": app("ghcr.io/prymitive/karma:v0.120", "8080", MON, 8080),
    "unpoller": app("ghcr.io/unpoller/unpoller:v2.11.2", "9130", MON),
    "uptime-kuma": app("louislam/uptime-kuma:1", "3001", MON, 3001, hc=True,
                       icon="uptime-kuma.svg"),
    "gatus": app("twinproduction/gatus:v5.13.1", "8080", MON, 8080),
    "influxdb": app("influxdb:2.7", "8086", MON, 8086),
    "speedtest-tracker": app("lscr.io/linuxserver/speedtest-tracker:0.24.0", "8765:80", MON, 80),
    "glances": app("nicolargo/glances:latest-full", "61208 +61209", MON, 61208, net="host"),
    "scrutiny": app("ghcr.io/analogj/scrutiny:master-omnibus", "8082:8080 +8086", MON, 8080),
    "smartctl-exporter": app("quay.io/prometheuscommunity/smartctl-exporter:v0.12.0", "9633", MON),
    "netdata": app("netdata/netdata:stable", "+19999", MON, 19999, hc=True, net="host"),
    "changedetection": app("ghcr.io/dgtlmoon/changedetection.io:0.47.06", "5000", MON, 5000),
    "sockpuppetbrowser": app("dgtlmoon/sockpuppetbrowser:latest", "+3000", MON),
    "umami": app("ghcr.io/umami-software/umami:postgresql-v2.14.0", "3000", MON, 3000, hc=True),
    # home
    "homeassistant": app("ghcr.io/home-assistant/home-assistant:stable", "+8123", HOME, 8123,
                         icon="home-assistant.svg", net="host"),
    "zigbee2mqtt": app("koenkk/zigbee2mqtt:1.41.0", "8080", HOME, 8080, icon="zigbee2mqtt.png"),
    "zwave-js-ui": app("zwavejs/zwave-js-ui:9.27.4", "8091 3000", HOME, 8091, hc=True),
    "mosquitto": app("eclipse-mosquitto:2.0.20", "1883 9001", HOME),
    "nodered": app("nodered/node-red:4.0.5", "1880", HOME, 1880, hc=True, icon="node-red.svg"),
    "esphome": app("ghcr.io/esphome/esphome:2024.11.1", "+6052", HOME, 6052, hc=True,
                   net="host"),
    "matter-server": app("ghcr.io/home-assistant-libs/python-matter-server:stable", "", HOME,
                         net="host"),
    "music-assistant": app("ghcr.io/music-assistant/server:2.3.2", "+8095", HOME, 8095,
                           net="host"),
    "ring-mqtt": app("tsightler/ring-mqtt:5.7.3", "+8554 55123", HOME, 55123),
    "govee2mqtt": app("ghcr.io/wez/govee2mqtt:latest", "", HOME, net="host"),
    "appdaemon": app("acockburn/appdaemon:4.4.2", "5050", HOME, 5050),
    "hass-configurator": app("causticlab/hass-configurator-docker:0.5.2", "3218", HOME, 3218),
    "frigate": app("ghcr.io/blakeblackshear/frigate:0.14.1", "8971 5000 8554 8555 8555/udp",
                   HOME, 8971, hc=True, icon="frigate.png"),
    "mealie": app("ghcr.io/mealie-recipes/mealie:v2.2.0", "9925:9000", HOME, 9000, hc=True),
    "firefly": app("fireflyiii/core:version-6.1.21", "8084:8080", HOME, 8080),
    "firefly-importer": app("fireflyiii/data-importer:latest", "8086:8080", HOME, 8080),
    "cron": app("alpine", "", None),
    "freshrss": app("lscr.io/linuxserver/freshrss:1.24.3", "8087:80", HOME, 80),
    "actual": app("actualbudget/actual-server:24.11.0", "5006", HOME, 5006, hc=True),
    "searxng": app("searxng/searxng:2024.11.17-10d3af84b", "8090:8080", HOME, 8080),
    "homebox": app("ghcr.io/sysadminsmedia/homebox:0.15.2", "3100:7745", HOME, 7745, hc=True),
    # infrastructure
    "traefik": app("traefik:v3.2", "80 443 8080", INFRA, 8080, icon="traefik.svg"),
    "socket-proxy": app("tecnativa/docker-socket-proxy:0.3.0", "127.0.0.1:2375:2375", INFRA),
    "portainer": app("portainer/portainer-ce:2.24.0", "9443 8000", INFRA, 9443,
                     icon="portainer.png"),
    "portainer_agent": app("portainer/agent:2.24.0", "9001", INFRA),
    "dozzle": app("amir20/dozzle:v8.8.0", "8888:8080", INFRA, 8080, hc=True, icon="dozzle.svg"),
    "dozzle-agent": app("amir20/dozzle:v8.8.0", "7007", INFRA, hc=True),
    "watchtower": app("containrrr/watchtower", "+8080", INFRA),
    "autoheal": app("willfarrell/autoheal:1.2.0", "", INFRA, hc=True),
    "notifier": app("crzykidd/docker-api-notifier:latest", "", INFRA),
    "pihole": app("pihole/pihole:2024.07.0", "53 53/udp 8053:80", INFRA, 80, hc=True,
                  icon="pi-hole.svg"),
    "unbound": app("mvance/unbound:1.21.1", "+53 +53/udp", INFRA, hc=True),
    "unbound-rpi": app("mvance/unbound-rpi:1.21.1", "5335:53 5335:53/udp", INFRA, hc=True),
    "adguard": app("adguard/adguardhome:v0.107.54", "53 53/udp 3000 8080:80", INFRA, 80,
                   icon="adguard-home.svg"),
    "adguardhome-sync": app("ghcr.io/bakito/adguardhome-sync:v0.6.13", "8080", INFRA),
    "cloudflared": app("cloudflare/cloudflared:2024.11.0", "", INFRA),
    "dockflare": app("alplat/dockflare:stable", "5000", INFRA, 5000),
    "crowdsec": app("crowdsecurity/crowdsec:v1.6.4", "+8080 +6060", INFRA, hc=True),
    "crowdsec-bouncer": app("fbonalair/traefik-crowdsec-bouncer:0.5.0", "+8080", INFRA),
    "authelia": app("authelia/authelia:4.38", "9091", INFRA, 9091, hc=True, icon="authelia.svg"),
    "redis-authelia": app("library/redis:7.4-alpine", "+6379", None),
    "wg-easy": app("ghcr.io/wg-easy/wg-easy:14", "51820/udp 51821", INFRA, 51821, hc=True),
    "headscale": app("headscale/headscale:0.23.0", "8080 9090", INFRA, 8080),
    "headplane": app("ghcr.io/tale/headplane:0.3.9", "3000", INFRA, 3000),
    "fail2ban": app("crazymax/fail2ban:1.1.0", "", INFRA, hc=True, net="host"),
    "ntfy": app("binwiederhier/ntfy:v2.11.0", "8093:80", INFRA, 80, icon="ntfy.svg"),
    "ddns-updater": app("registry.home.arpa:5000/homelab/ddns-updater:1.4.2", "", INFRA),
    "homepage": app("ghcr.io/gethomepage/homepage:v0.9.13", "3002:3000", INFRA, 3000, hc=True,
                    icon="homepage.png"),
    "vaultwarden": app("vaultwarden/server:1.32.5", "8222:80", INFRA, 80, hc=True,
                       icon="bitwarden.svg"),
    "authentik-server": app("ghcr.io/goauthentik/server:2024.10.4", "9000 9443", INFRA, 9000,
                            hc=True, icon="authentik.svg"),
    "authentik-worker": app("ghcr.io/goauthentik/server:2024.10.4", "", INFRA, hc=True),
    "netbox": app("docker.io/netboxcommunity/netbox:v4.1-3.0.2", "8000:8080", INFRA, 8080,
                  hc=True),
    "netbox-worker": app("docker.io/netboxcommunity/netbox:v4.1-3.0.2", "", INFRA, hc=True),
    "semaphore": app("semaphoreui/semaphore:v2.10.35", "3004:3000", INFRA, 3000),
    # files
    "nextcloud": app("nextcloud:30-apache", "8081:80", FILES, 80, icon="nextcloud.svg"),
    "nextcloud-cron": app("nextcloud:30-apache", "+80", FILES),
    "syncthing": app("lscr.io/linuxserver/syncthing:1.28.0",
                     "8384 22000 22000/udp 21027/udp", FILES, 8384, icon="syncthing.svg"),
    "immich-server": app("ghcr.io/immich-app/immich-server:v1.121.0", "2283", FILES, 2283,
                         hc=True, icon="immich.svg"),
    "immich-ml": app("ghcr.io/immich-app/immich-machine-learning:v1.121.0", "+3003", FILES,
                     hc=True),
    "immich-redis": app("docker.io/redis:6.2-alpine@" + DIGEST_REDIS, "+6379", None, hc=True),
    "immich-postgres": app("docker.io/tensorchord/pgvecto-rs:pg14-v0.2.0@" + DIGEST_PGVECTO,
                           "+5432", None, hc=True),
    "paperless": app("ghcr.io/paperless-ngx/paperless-ngx:2.13", "8010:8000", FILES, 8000,
                     hc=True, icon="paperless-ngx.svg"),
    "paperless-broker": app("docker.io/library/redis:7", "+6379", None),
    "paperless-db": app("docker.io/library/postgres:16", "+5432", None),
    "gotenberg": app("docker.io/gotenberg/gotenberg:8.7", "+3000", None),
    "tika": app("docker.io/apache/tika:latest", "+9998", None),
    "filebrowser": app("filebrowser/filebrowser:v2.31.2", "8085:80", FILES, 80, hc=True),
    "minio": app("quay.io/minio/minio:RELEASE.2024-11-07T00-52-20Z", "9000 9001", FILES, 9001),
    "duplicati": app("lscr.io/linuxserver/duplicati:2.0.8", "8200", FILES, 8200),
    "backrest": app("garethgeorge/backrest:v1.6.1", "9898", FILES, 9898),
    "kopia": app("kopia/kopia:0.18.1", "51515", FILES, 51515),
    "rest-server": app("restic/rest-server:0.13.0", "8000", FILES),
    "rclone": app("rclone/rclone:1.68", "5572", FILES, 5572),
    "bookstack": app("lscr.io/linuxserver/bookstack:24.10.2", "6875:80", FILES, 80),
    "stirling-pdf": app("frooodle/s-pdf:0.30.2", "8089:8080", FILES, 8080),
    # dev
    "gitea": app("gitea/gitea:1.22.3", "3000 2222:22", DEV, 3000, icon="gitea.svg"),
    "drone": app("drone/drone:2", "8092:80", DEV, 80, icon="drone.png"),
    "drone-runner": app("drone/drone-runner-docker:1", "+3000", DEV),
    "renovate": app("ghcr.io/renovatebot/renovate:39", "", DEV),
    "registry": app("registry:2", "5000", DEV),
    "registry-ui": app("joxit/docker-registry-ui:2.5.7", "5080:80", DEV, 80),
    "code-server": app("lscr.io/linuxserver/code-server:4.95.1", "8443", DEV, 8443,
                       icon="code-server.svg"),
    "it-tools": app("corentinth/it-tools:latest", "8091:80", DEV, 80),
    "n8n": app("docker.n8n.io/n8nio/n8n:1.68.0", "5678", DEV, 5678, icon="n8n.png"),
    "verdaccio": app("verdaccio/verdaccio:6", "4873", DEV, 4873),
    "apt-cacher-ng": app("sameersbn/apt-cacher-ng:3.7.4-20220421", "3142", DEV),
    "mailpit": app("axllent/mailpit:v1.21", "8025 1025", DEV, 8025, hc=True),
    "ollama": app("ollama/ollama:0.4.2", "11434", DEV),
    "open-webui": app("ghcr.io/open-webui/open-webui:main", "3005:8080", DEV, 8080, hc=True,
                      icon="open-webui.png"),
    "docs": app("nginx", "8070:80", DEV, 80),
    "status-page": app("harbor.lab.example/proxy/docker.io/library/nginx:1.27-alpine",
                       "8071:80", DEV, 80),
    "wiki-static": app("library/nginx", "8072:80", DEV, 80),
    "blog": app("nginx@" + DIGEST_NGINX, "8073:80", None, 80),
    "ghost": app("ghost:5-alpine", "2368", None, 2368, icon="ghost.png"),
    "backup-runner": app("registry:5000/homelab/backup-runner:2024.11", "", FILES),
    "lab-exporter": app("registry.gitlab.example/homelab/tools/exporters/lab-exporter:0.9.3",
                        "9200", MON),
    "minecraft": app("itzg/minecraft-server:java21", "25565", None, hc=True),
    # plain databases and caches
    "mariadb": app("mariadb:11.4", "+3306", None, hc=True),
    "lsio-mariadb": app("lscr.io/linuxserver/mariadb:11.4.4", "+3306", None),
    "postgres": app("postgres:16-alpine", "+5432", None, hc=True),
    "postgres15": app("postgres:15-alpine", "+5432", None),
    "redis": app("redis", "+6379", None),
    "valkey": app("docker.io/valkey/valkey:8-alpine", "+6379", None, hc=True),
    "mysql": app("mysql:8.0", "+3306 +33060", None),
}


def c(name, key=None, svc=None, **kw):
    """One container of a stack: its name, its APPS key (default: name),
    its compose service name (default: name) and per-container overrides:
      tr=sub        Traefik router on websecure for sub.<domain>
      tr_http=True  plus a plain-http router on the web entrypoint
      tr_only_http  the router is on web (no TLS) only
      path=(sub, p) plus a router for sub.<domain> with path prefix p
      df=(sub, pol) Dockflare on sub.example, access policy pol (or None)
      iu/eu         explicit internalurl / externalurl labels (False: none)
      status        docker_status
      group/sort    group and sort priority labels (group=False: none)
    """
    return {"name": name, "key": key or name, "svc": svc or name, **kw}


def stack(name, *containers):
    return {"name": name, "containers": list(containers)}


LAYOUT = {
    "docker01": [
        stack("proxy", c("traefik", tr="traefik", tr_http=True), c("socket-proxy")),
        stack("media",
              c("gluetun"),
              c("qbittorrent", "qbittorrent-vpn", tr="qbit"),
              c("sonarr", tr="sonarr", sort=10, iu="http://docker01.home.arpa:8989"),
              c("radarr", tr="radarr", sort=11, iu="http://docker01.home.arpa:7878"),
              c("bazarr", tr="bazarr", sort=12),
              c("prowlarr", tr="prowlarr", sort=13),
              c("lidarr", tr="lidarr"),
              c("readarr", tr="readarr", status="restarting"),
              c("overseerr", tr="requests", df=("requests", "family"), sort=1,
                eu="https://requests.example"),
              c("flaresolverr"),
              c("unpackerr"),
              c("recyclarr", status="exited"),
              c("sabnzbd", tr="sabnzbd")),
        stack("nextcloud",
              c("nextcloud", tr="cloud", df=("cloud", None), eu="https://cloud.example",
                sort=1),
              c("nextcloud-db", "mariadb", svc="db"),
              c("nextcloud-redis", "redis", svc="redis"),
              c("nextcloud-cron", svc="cron")),
        stack("paperless",
              c("paperless-webserver-1", "paperless", svc="webserver", tr="paperless"),
              c("paperless-broker-1", "paperless-broker", svc="broker"),
              c("paperless-db-1", "paperless-db", svc="db"),
              c("paperless-gotenberg-1", "gotenberg", svc="gotenberg"),
              c("paperless-tika-1", "tika", svc="tika")),
        stack("gitea",
              c("gitea", tr="git", df=("git", None), iu="https://git.lab.example",
                eu="https://git.example"),
              c("gitea-db", "postgres", svc="db")),
        stack("ci", c("drone", tr="ci"), c("drone-runner"), c("renovate", status="exited")),
        stack("registry", c("registry", tr="registry"), c("registry-ui", tr="registry-ui")),
        stack("firefly",
              c("firefly", tr="money", group="Home", sort=40),
              c("firefly-db", "mariadb", svc="db"),
              c("firefly-importer", tr="money-import"),
              c("firefly-cron", "cron", svc="cron")),
        stack("bookstack", c("bookstack", tr="wiki"),
              c("bookstack-db", "lsio-mariadb", svc="db")),
        stack("searxng", c("searxng", tr="search"), c("searxng-redis", "valkey", svc="redis")),
        stack("changedetection", c("changedetection", tr="changes"),
              c("sockpuppetbrowser")),
        stack("tools",
              c("it-tools", tr="tools"),
              c("homepage", tr="home", tr_http=True, sort=0, iu="https://home.lab.example"),
              c("mealie", tr="recipes", df=("recipes", "family")),
              c("vaultwarden", tr="vault", df=("vault", None), eu="https://vault.example",
                iu="https://vault.lab.example"),
              c("docs", tr="docs"),
              c("stirling-pdf", tr="pdf"),
              c("n8n", tr="n8n", path=("apps", "/n8n/")),
              c("freshrss", tr="rss"),
              c("wiki-static", tr="handbook"),
              c("actual", tr="budget", df=("budget", "family"))),
        stack("portainer", c("portainer", tr="portainer")),
        stack("dozzle", c("dozzle", tr="logs")),
        stack(None, c("watchtower"), c("autoheal"), c("docker-api-notifier", "notifier")),
        stack("monitoring-agent", c("node-exporter"), c("cadvisor"), c("promtail")),
    ],
    "docker02": [
        stack("proxy", c("traefik", tr="traefik-02"), c("socket-proxy")),
        stack("monitoring",
              c("grafana", tr="grafana", path=("monitor", "/grafana/"), sort=1,
                df=("grafana", "admins")),
              c("prometheus", tr="prometheus", path=("monitor", "/prometheus")),
              c("alertmanager", tr="alertmanager", path=("monitor", "/alertmanager/")),
              c("loki"),
              c("blackbox-exporter"),
              c("pushgateway"),
              c("karma", tr="alerts"),
              c("unpoller", status="restarting"),
              c("uptime-kuma", tr="uptime", sort=2, iu="http://10.0.10.12:3001"),
              c("influxdb", tr="influx"),
              c("speedtest-tracker", tr="speedtest"),
              c("lab-exporter")),
        stack("media-4k",
              c("sonarr-4k", "sonarr", svc="sonarr", tr="sonarr-4k", sort=20),
              c("radarr-4k", "radarr", svc="radarr", tr="radarr-4k", sort=21),
              c("bazarr-4k", "bazarr", svc="bazarr", tr="bazarr-4k")),
        stack("authentik",
              c("authentik-server-1", "authentik-server", svc="server", tr="auth",
                df=("auth", None), eu="https://auth.example"),
              c("authentik-worker-1", "authentik-worker", svc="worker", status="unhealthy"),
              c("authentik-postgresql-1", "postgres", svc="postgresql"),
              c("authentik-redis-1", "redis", svc="redis")),
        stack("netbox-docker",
              c("netbox-docker-netbox-1", "netbox", svc="netbox", tr="netbox"),
              c("netbox-docker-netbox-worker-1", "netbox-worker", svc="netbox-worker"),
              c("netbox-docker-netbox-housekeeping-1", "netbox-worker",
                svc="netbox-housekeeping"),
              c("netbox-docker-postgres-1", "postgres15", svc="postgres"),
              c("netbox-docker-redis-1", "valkey", svc="redis"),
              c("netbox-docker-redis-cache-1", "valkey", svc="redis-cache")),
        stack("frigate", c("frigate", tr="nvr", sort=5)),
        stack("dns", c("pihole", tr="pihole-02", iu="http://10.0.10.12:8053/admin/"),
              c("unbound")),
        stack("devtools", c("code-server", tr="code"), c("drone-runner", status="restarting"),
              c("verdaccio", tr="npm"), c("status-page", tr="status-lab"), c("apt-cacher-ng"),
              c("mailpit", tr="mail", tr_only_http=True)),
        stack("llm", c("ollama"), c("open-webui", tr="chat", df=("chat", "family"))),
        stack("minecraft", c("minecraft", group=False)),
        stack("semaphore", c("semaphore", tr="ansible")),
        stack("homebox", c("homebox", tr="inventory")),
        stack(None, c("glances", status="paused"), c("portainer_agent"),
              c("watchtower"), c("autoheal"), c("docker-api-notifier", "notifier")),
        stack("monitoring-agent", c("node-exporter"), c("cadvisor"), c("promtail"),
              c("dozzle-agent")),
    ],
    "nas": [
        stack("proxy", c("traefik", tr="traefik-nas")),
        stack("media",
              c("jellyfin", tr="jellyfin", df=("jellyfin", None), sort=2,
                iu="http://nas.home.arpa:8096", eu="https://jellyfin.example"),
              c("jellyseerr", tr="jellyseerr", status="exited"),
              c("plex", sort=3, iu="http://10.0.10.20:32400/web"),
              c("tautulli", tr="tautulli"),
              c("tdarr", tr="tdarr"),
              c("tdarr-node", status="paused"),
              c("navidrome", tr="music", df=("music", "family")),
              c("audiobookshelf", tr="books", df=("books", "family")),
              c("kavita", tr="comics"),
              c("calibre-web", tr="calibre"),
              c("jellystat", tr="jellystat", status="exited"),
              c("jellystat-db", "postgres15", svc="jellystat-db"),
              c("pinchflat", tr="pinchflat"),
              c("metube", tr="metube"),
              c("wizarr", tr="invite", df=("invite", None)),
              c("qbittorrent", tr="seedbox")),
        stack("immich",
              c("immich_server", "immich-server", svc="immich-server", tr="photos",
                df=("photos", None), eu="https://photos.example", sort=1),
              c("immich_machine_learning", "immich-ml", svc="immich-machine-learning",
                status="unhealthy"),
              c("immich_redis", "immich-redis", svc="redis"),
              c("immich_postgres", "immich-postgres", svc="database")),
        stack("files",
              c("syncthing", tr="sync"),
              c("filebrowser", tr="files"),
              c("minio", tr="s3"),
              c("duplicati", tr="duplicati"),
              c("backrest", tr="backrest"),
              c("kopia", tr="kopia", status="created"),
              c("rest-server"),
              c("rclone", status="created"),
              c("backup-runner", status="exited")),
        stack("scrutiny", c("scrutiny", tr="disks"), c("smartctl-exporter")),
        stack(None, c("netdata"), c("portainer_agent"), c("watchtower"), c("autoheal"),
              c("docker-api-notifier", "notifier")),
        stack("monitoring-agent", c("node-exporter"), c("cadvisor"), c("promtail"),
              c("dozzle-agent")),
    ],
    "edge": [
        stack("proxy",
              c("traefik", tr="traefik-edge"),
              c("crowdsec"),
              c("crowdsec-bouncer"),
              c("authelia", tr="login", eu="https://login.example"),
              c("authelia-redis", "redis-authelia", svc="redis")),
        stack("dockflare", c("dockflare", tr="dockflare"), c("cloudflared")),
        stack("vpn", c("wg-easy", tr="vpn")),
        stack("dns", c("adguard", tr="adguard", iu="http://10.0.20.2:8080"),
              c("adguardhome-sync")),
        stack("status",
              c("uptime-kuma", tr="status", tr_http=True, eu="https://status.example",
                sort=1),
              c("gatus", tr="health")),
        stack("ntfy", c("ntfy", tr="ntfy", tr_http=True, eu="https://ntfy.example")),
        stack("headscale", c("headscale", tr="vpn-control"),
              c("headplane", tr="vpn-admin", path=("vpn-control", "/admin"),
                status="exited")),
        stack("umami", c("umami", tr="stats"), c("umami-db", "postgres15", svc="db")),
        stack("ghost", c("ghost", tr="www", tr_http=True, eu="https://www.example"),
              c("ghost-db", "mysql", svc="db")),
        stack("blog", c("blog", tr="blog", tr_http=True)),
        stack(None, c("ddns-updater"), c("fail2ban"), c("portainer_agent"),
              c("watchtower"), c("docker-api-notifier", "notifier"), c("dozzle-agent")),
        stack("monitoring-agent", c("node-exporter"), c("promtail")),
    ],
    "pi4": [
        stack("home",
              c("homeassistant", sort=1, iu="http://pi4.home.arpa:8123",
                eu="https://ha.example"),
              c("zigbee2mqtt", iu="http://pi4.home.arpa:8080"),
              c("zwave-js-ui"),
              c("mosquitto"),
              c("nodered", iu="http://192.168.1.40:1880"),
              c("esphome"),
              c("matter-server"),
              c("music-assistant"),
              c("ring-mqtt"),
              c("govee2mqtt", status="restarting"),
              c("appdaemon"),
              c("hass-configurator", status="exited")),
        stack("dns", c("pihole", iu="http://pi4.home.arpa:8053/admin/", sort=1),
              c("unbound", "unbound-rpi")),
        stack(None, c("portainer_agent"), c("watchtower"), c("autoheal"),
              c("docker-api-notifier", "notifier")),
        stack("monitoring-agent", c("node-exporter"), c("promtail"), c("cadvisor"),
              c("dozzle-agent")),
    ],
}


def parse_ports(spec):
    """Ports notation -> (exposed "C/proto" list, published (ip, H, C, proto))."""
    exposed, published = set(), []
    for tok in spec.split():
        proto = "tcp"
        if "/" in tok:
            tok, proto = tok.split("/")
        if tok.startswith("+"):
            exposed.add((int(tok[1:]), proto))
            continue
        parts = tok.split(":")
        ip = None
        if len(parts) == 3:
            ip, parts = parts[0], parts[1:]
        hport, cport = (int(parts[0]), int(parts[-1]))
        exposed.add((cport, proto))
        published.append((ip, hport, cport, proto))
    return sorted(exposed), published


def make_payload(host, stack_name, ct, seq):
    hinfo = HOSTS[host]
    style = hinfo["style"]
    a = APPS[ct["key"]]
    rng = random.Random("%d:%s:%s" % (SEED, host, ct["name"]))
    domain = "example" if host == "edge" else "lab.example"

    container_id = "%064x" % rng.getrandbits(256)

    # State: mostly running; images with a HEALTHCHECK often report health.
    status = ct.get("status")
    if status is None:
        status = "running"
        if a["hc"] and rng.random() < 0.4:
            status = "healthy"
    if status == "created":
        started_at = "0001-01-01T00:00:00Z"
    else:
        if status == "restarting":
            ago = datetime.timedelta(seconds=rng.randrange(5, 90))
        else:
            ago = datetime.timedelta(seconds=rng.randrange(3600, 38 * 86400))
        start = NOW - ago
        start = start.replace(microsecond=rng.randrange(0, 1000000))
        started_at = start.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d%03dZ" % (
            start.microsecond, rng.randrange(0, 1000))

    # The notifier's boot scan walks containers in quick succession.
    ts = NOW + datetime.timedelta(microseconds=40000 * seq + rng.randrange(0, 40000))
    timestamp = ts.isoformat(timespec="microseconds")

    # Networks, as the Docker API reports them.
    if a["net"] == "host":
        networks = [{"name": "host", "aliases": []}]
    elif a["net"] and a["net"].startswith("service:"):
        networks = []
    elif stack_name is None:
        networks = [{"name": "bridge", "aliases": []}]
    else:
        aliases = [ct["name"]] + ([ct["svc"]] if ct["svc"] != ct["name"] else [])
        networks = [{"name": stack_name + "_default", "aliases": aliases}]
        if ct.get("tr") and stack_name != "proxy":
            networks.append({"name": "proxy", "aliases": list(aliases)})
        if stack_name == "proxy" and ct["key"] == "traefik":
            networks.append({"name": "proxy", "aliases": list(aliases)})
        if ct["key"] in ("prometheus", "grafana", "loki", "promtail", "cadvisor") and \
                stack_name.startswith("monitoring"):
            networks.append({"name": "monitoring", "aliases": [ct["svc"]]})

    exposed, published = parse_ports(a["ports"])
    exposed_ports = ["%d/%s" % p for p in exposed]
    published_ports = []
    if a["net"] is None:
        for ip, hport, cport, proto in published:
            ips = [ip] if ip else (["0.0.0.0", "::"] if hinfo["ipv6"] else ["0.0.0.0"])
            if ip is None and cport == 53 and ct["key"] in ("pihole", "adguard"):
                ips = [hinfo["ip"]]  # DNS bound to the LAN address only
            for one in ips:
                published_ports.append({"container_port": cport, "protocol": proto,
                                        "host_ip": one, "host_port": hport})
    web_hport = None
    for ip, hport, cport, proto in published:
        if cport == a["web"] and proto == "tcp":
            web_hport = hport
    if a["net"] == "host":
        web_hport = a["web"]

    # Exposure observations: one per Traefik router, one per Dockflare host.
    obs = []
    if ct.get("tr"):
        sub = ct["tr"]
        if ct.get("tr_only_http"):
            obs.append(traefik_obs(sub, domain, False, None, sub, ["web"]))
        else:
            obs.append(traefik_obs(sub, domain, True, None, sub, ["websecure"]))
        if ct.get("tr_http"):
            obs.append(traefik_obs(sub, domain, False, None, sub + "-http", ["web"]))
    if ct.get("path"):
        psub, prefix = ct["path"]
        obs.append(traefik_obs(psub, domain, True, prefix,
                               ct["svc"].split("-")[0] + "-path", ["websecure"]))
    if ct.get("df"):
        dsub, policy = ct["df"]
        obs.append({"layer": "dockflare", "hostname": dsub + ".example", "tls": True,
                    "path_prefix": None,
                    "auth": ("cloudflare_access:" + policy) if policy else None,
                    "details": None})

    # Labels (dockernotifier.std.*): explicit URLs, health flags, icon,
    # group, sort priority. Some web apps carry a plain host:port URL.
    iu, eu = ct.get("iu"), ct.get("eu")
    if iu is None and web_hport and rng.random() < 0.3:
        iu = "http://%s.home.arpa:%d" % (host, web_hport) if rng.random() < 0.7 else \
            "http://%s:%d" % (hinfo["ip"], web_hport)
    labels = {}
    if iu:
        labels["internal_health_check_enabled"] = rng.random() < 0.8
    if eu:
        labels["external_health_check_enabled"] = rng.random() < 0.7
    if a["icon"] and rng.random() < 0.6:
        labels["image_icon"] = a["icon"]
    group = ct.get("group", a["group"])
    if group and rng.random() < 0.9:
        labels["group_name"] = group
    if ct.get("sort") is not None:
        labels["sort_priority"] = ct["sort"]

    p = {"host": host, "container_name": ct["name"], "container_id": container_id}
    if style == "full":
        p["internalurl"] = iu or None
        p["externalurl"] = eu or None
    else:
        if iu:
            p["internalurl"] = iu
        if eu:
            p["externalurl"] = eu
    p.update({
        "stack_name": stack_name,
        "docker_status": status,
        "started_at": started_at,
        "image_name": a["image"],
        "timestamp": timestamp,
    })
    p.update(labels)
    p["networks"] = networks
    p["exposed_ports"] = exposed_ports if exposed_ports else None
    p["published_ports"] = published_ports
    if style != "sparse":
        if obs:
            p["exposure_observations"] = obs
        elif host == "docker02":
            p["exposure_observations"] = None
        else:
            p["exposure_observations"] = []
    if style == "sparse":
        p = {k: v for k, v in p.items() if v is not None}
    return p


def traefik_obs(sub, domain, tls, prefix, router, entrypoints):
    return {"layer": "traefik", "hostname": "%s.%s" % (sub, domain), "tls": tls,
            "path_prefix": prefix, "auth": None,
            "details": {"router": router, "entrypoints": entrypoints}}


def build():
    payloads, seen = [], set()
    for host, stacks in LAYOUT.items():
        for st in stacks:
            for ct in st["containers"]:
                key = (host, ct["name"])
                if key in seen:
                    raise SystemExit("duplicate container %s/%s" % key)
                seen.add(key)
                payloads.append(make_payload(host, st["name"], ct, len(payloads)))
    if len(payloads) != COUNT:
        raise SystemExit("layout has %d containers, want %d" % (len(payloads), COUNT))
    files = {}
    for i, p in enumerate(payloads, 1):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", p["container_name"])
        name = "%03d-%s-%s.json" % (i, p["host"], safe)
        files[name] = json.dumps(p, indent=2, ensure_ascii=False) + "\n"
    return files


def main(argv):
    files = build()
    existing = {f for f in os.listdir(HERE) if re.match(r"^\d{3}-.*\.json$", f)}
    if argv[1:] == ["--check"]:
        bad = sorted(existing ^ set(files))
        for name, text in sorted(files.items()):
            if name in existing:
                with open(os.path.join(HERE, name), encoding="utf-8") as f:
                    if f.read() != text:
                        bad.append(name)
        for name in bad:
            print("payloads: out of date: %s" % name, file=sys.stderr)
        return 1 if bad else 0
    if argv[1:]:
        print("usage: generate.py [--check]", file=sys.stderr)
        return 2
    for name in sorted(existing - set(files)):
        os.remove(os.path.join(HERE, name))
    for name, text in sorted(files.items()):
        path = os.path.join(HERE, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
