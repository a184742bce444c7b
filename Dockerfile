# One image for the sandbox and the three fakes, built from the static
# binaries `make build` writes to bin/ (CGO_ENABLED=0). FROM scratch needs no
# base image, so the image builds where no registry is reachable. The worlds
# are embedded in the binaries.
#
#   docker run --rm -p 127.0.0.1:8080-8083:8080-8083 -p 127.0.0.1:3128:3128 m365snow:local
#
# runs the sandbox (the default command); docker-compose.yml runs the three
# fakes as services from the same image instead.
FROM scratch
COPY bin/fakeaad bin/fakesnow bin/fakem365 bin/sandbox /
EXPOSE 8080 8081 8082 8083 3128
USER 65534:65534
ENTRYPOINT []
# Listening beyond the container's loopback is what publishing needs; the
# -p flags above publish on the host's loopback only. The control plane then
# needs a token: the sandbox makes one and prints it (or pass
# -e M365SNOW_ADMIN_TOKEN=...). The CA has no writable directory here: the
# proxy hands it out at :3128/ca.pem.
CMD ["/sandbox", "--snow-listen", "0.0.0.0:8080", "--aad-listen", "0.0.0.0:8081", "--m365-listen", "0.0.0.0:8082", "--listen", "0.0.0.0:8083", "--proxy-listen", "0.0.0.0:3128"]
