# Callbox in a container, for vendors deploying on x86 hardware and for evaluation.
#
#   docker build -t callbox .
#   docker run -d --name callbox --network host -v callbox-data:/var/lib/callbox callbox
#   docker exec -i callbox callbox config apply - < office.yml
#
# Host networking: SIP and RTP carry addresses inside their messages, and RTP needs a range of
# 2000 UDP ports; NAT'd bridge networking breaks both. Headsets need --device /dev/snd and the
# hidraw nodes; a LAN-phone-only office needs no device.
# Linted with hadolint in CI (no Docker engine runs there); built elsewhere.

# --- build: the project's own pjsua2 wheel, the appliance's wheel and every dependency's ---
FROM debian:bookworm-slim AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential swig pkg-config libasound2-dev libssl-dev \
      libopus-dev libspeex-dev libspeexdsp-dev libgsm1-dev uuid-dev python3-dev python3-venv dpkg-dev \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY image/pjsua2/ image/pjsua2/
# The pjsua2 source comes through apt's deb-src twin of the image's own Debian sources.
RUN python3 -m venv /opt/build \
 && PYTHON=/opt/build/bin/python CALLBOX_WHEEL_CACHE=/opt/pjsua2 image/pjsua2/build.sh | tail -n 1 > /opt/pjsua2.path
COPY pyproject.toml README.md COPYING ./
COPY appliance/ appliance/
COPY web/ web/
COPY ansible/roles/callbox/files/wheelhouse.py /opt/wheelhouse.py
RUN /opt/build/bin/python /opt/wheelhouse.py build /src "$(cat /opt/pjsua2.path)" /wheelhouse

# --- run ---
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv libasound2 libssl3 libopus0 libspeex1 \
      libspeexdsp1 libgsm1 libuuid1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 990 callbox \
 && useradd --system --uid 990 --gid callbox --groups audio --home-dir /var/lib/callbox --shell /usr/sbin/nologin callbox \
 && install -d -o callbox -g callbox -m 0750 /var/lib/callbox
COPY --from=build /wheelhouse /tmp/wheelhouse
# Only the wheels built above: pjsua2 must be the appliance's build, never an index's.
# hadolint ignore=DL3013
RUN python3 -m venv /opt/callbox/venv \
 && /opt/callbox/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse callbox \
 && rm -rf /tmp/wheelhouse
ENV PATH=/opt/callbox/venv/bin:$PATH \
    CALLBOX_DATA_DIR=/var/lib/callbox \
    PYTHONUNBUFFERED=1
VOLUME /var/lib/callbox
EXPOSE 5060/udp 5060/tcp 8080/tcp 10000-11999/udp
# The service account by number, so the data volume's owner is the same on every host.
USER 990:990
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["callbox"]
CMD ["run"]
