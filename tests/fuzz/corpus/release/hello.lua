-- The release of examples/hello: 11 targets, archives and checksums.
project { name = "hello", version = env("VERSION", "0.1.0") }

go "1.26.8" -- the archive hashes live in release.lock

build "hello" {
  main = "./cmd/hello",
  ldflags = { "-s", "-w", "-X main.version={version}" },
  targets = matrix {
    goos = { "linux", "darwin", "windows", "freebsd" },
    goarch = { "amd64", "arm64" },
    cgo = false,
    include = {
      { goos = "linux", goarch = "386" },
      { goos = "linux", goarch = "arm", goarm = { "6", "7" } },
    },
  },
}

archive {
  format = "tar.gz",
  format_overrides = { windows = "zip" },
  name = "{name}_{version}_{os}_{arch}{variant}",
  files = { "LICENSE" },
}

checksums { file = "SHA256SUMS", algorithm = "sha256" }
