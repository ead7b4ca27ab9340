-- expect: release.lua:2: unknown name '_G'
_G.os = nil
