-- The release of examples/cgo: two cgo programs cross-compiled with a
-- pinned zig for linux amd64/arm64, windows amd64 and darwin arm64, every
-- binary static (the default) and smoke-tested (arm64 under qemu).
project { name = "cgodemo", version = env("VERSION", "0.1.0") }

go "1.26.8" -- the SDK and zig hashes live in release.lock

-- zig cc -target <triple> for every cgo target: musl on linux, so that
-- the linux binaries link fully static.
cc { zig = "0.17.0" }

local function targets()
  return matrix {
    goos = { "linux" },
    goarch = { "amd64", "arm64" },
    cgo = true,
    include = {
      { goos = "windows", goarch = "amd64", cgo = true },
      { goos = "darwin", goarch = "arm64", cgo = true },
    },
  }
end

-- A Go program with its own C file.
build "cgohello" {
  main = "./cmd/cgohello",
  ldflags = { "-s", "-w", "-X main.version={version}" },
  targets = targets(),
  smoke = { expect = "fib(30) = 832040, computed in C" },
}

-- github.com/mattn/go-sqlite3 (pinned in go.sum): SQLite's C compiled by cgo.
build "sqlitedemo" {
  main = "./cmd/sqlitedemo",
  ldflags = { "-s", "-w", "-X main.version={version}" },
  targets = targets(),
  smoke = { expect = "sqlitedemo {version}: sqlite 3." },
}

archive {
  format = "tar.gz",
  format_overrides = { windows = "zip" },
  name = "{name}_{version}_{os}_{arch}{variant}",
  files = { "LICENSE" },
}

checksums { file = "SHA256SUMS", algorithm = "sha256" }
