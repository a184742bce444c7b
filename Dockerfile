# Built from binaries `make build` produced (CGO_ENABLED=0, static), so the
# image needs no base image and no registry access.
FROM scratch
COPY bin/fakeaad /fakeaad
EXPOSE 8081
ENTRYPOINT []
