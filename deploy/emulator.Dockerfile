# syntax=docker/dockerfile:1
# The Salesforce emulator alone (`sfsync emulator`), for CI jobs in any
# language: a static Go binary on an empty base image, run as a non-root
# user. See docs/EMULATOR.md ("Container image").
#
#   docker build -f deploy/emulator.Dockerfile -t sfsync-emulator .
#   docker run --rm -p 8383:8383 sfsync-emulator --contacts 100
#   docker run --rm -p 8443:8443 sfsync-emulator --addr 0.0.0.0:8443 --tls
#   docker run --rm -p 8383:8383 -v emu-data:/data sfsync-emulator --data /data
#
# Arguments after the image name are `sfsync emulator` flags; the image
# listens on 0.0.0.0:8383 and, unless --base-url says otherwise, tells
# clients http://localhost:8383 (publish the port on the same number, or
# pass --base-url with the address clients use).


FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that needs no libc (the SQLite driver of the
# rest of sfsync is pure Go too). -trimpath and -s -w keep it small and
# free of build paths.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o /out/sfsync ./cmd/sfsync \
 && mkdir -p /out/tmp /out/data

FROM scratch
# The emulator writes its generated TLS certificate to $TMPDIR and its
# --data file where told; scratch has neither directory, so bring them,
# owned by the runtime user.
COPY --from=build --chown=65532:65532 /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/sfsync /sfsync
ENV TMPDIR=/tmp
# 65532 is the conventional "nonroot" uid of minimal images; no shell or
# passwd file is needed to run as it.
USER 65532:65532
EXPOSE 8383
ENTRYPOINT ["/sfsync", "emulator", "--addr", "0.0.0.0:8383"]
