-- The release of examples/hello: 11 targets, archives and checksums, a
-- macOS universal binary, deb and rpm packages and an OCI image.
project { name = "hello", version = env("VERSION", "0.1.0") }

go "1.26.8" -- the archive hashes live in release.lock

build "hello" {
  main = "./cmd/hello",
  universal = true, -- darwin/all: one fat Mach-O of darwin/amd64 + arm64
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

-- One package of each format per linux target (docs/packages.md).
package {
  format = "deb",
  maintainer = "The xgo-build authors <hello@example.com>",
  description = "greets whoever it is asked to greet\nThe smallest program worth releasing for every target.",
  license = "MIT",
  contents = { { src = "packaging/copyright", dst = "/usr/share/doc/hello/copyright" } },
}
package {
  format = "rpm",
  maintainer = "The xgo-build authors <hello@example.com>",
  description = "greets whoever it is asked to greet\nThe smallest program worth releasing for every target.",
  license = "MIT",
}

-- dist/hello-oci/: a multi-platform OCI image layout of the linux targets.
image {
  name = "hello",
  files = { { src = "LICENSE", dst = "usr/share/doc/hello/LICENSE" } },
  labels = { ["org.opencontainers.image.title"] = "hello" },
}
