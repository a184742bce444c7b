# One image for the three fakes (and the all-in-one sandbox), built from the
# static binaries `make build` writes to bin/ (CGO_ENABLED=0). FROM scratch
# needs no base image, so the image builds where no registry is reachable.
# The worlds are embedded in the binaries; docker-compose.yml also mounts
# fixtures/ so that edited worlds load without a rebuild.
FROM scratch
COPY bin/fakeaad bin/fakesnow bin/fakem365 bin/sandbox /
EXPOSE 8080 8081 8082
USER 65534:65534
ENTRYPOINT []
