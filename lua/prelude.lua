-- prelude.lua - the release.lua DSL, Lua side.
--
-- Runs once per load, before the build file, in a private environment that
-- holds the real base library plus `where` (a C function returning the line
-- of the build file being executed).  It returns two tables: the sandboxed
-- environment the build file runs in, and the list of declarations the
-- file made.  The DSL functions only record; the C side (lua/release.c)
-- validates and converts every declaration.

local where, env_read, print_err = ...
local decls = {}

local function record(kind, args, extra)
  local d = { kind = kind, line = where(), args = args }
  if extra then
    for k, v in pairs(extra) do d[k] = v end
  end
  decls[#decls + 1] = d
  return d
end

-- A declaration taking one table: `project { ... }`.
local function table_decl(kind)
  return function(args)
    if type(args) ~= "table" then
      error(kind .. " expects a table: write " .. kind .. " { ... }", 2)
    end
    record(kind, args)
  end
end

local dsl = {}

dsl.project = table_decl("project")
dsl.archive = table_decl("archive")
dsl.image = table_decl("image")
dsl.checksums = table_decl("checksums")
dsl.package = table_decl("package")
dsl.sbom = table_decl("sbom")
dsl.cache = table_decl("cache")
dsl.signing = table_decl("signing")
dsl.cc = table_decl("cc")
dsl.before = table_decl("before")
dsl.after = table_decl("after")

-- go "1.26.8"  or  go { version = "1.26.8", mirror = "https://..." }
function dsl.go(args)
  if type(args) ~= "string" and type(args) ~= "table" then
    error('go expects a version string: write go "1.26.8"', 2)
  end
  record("go", args)
end

-- build "name" { ... }  (or build { name = "...", ... })
function dsl.build(name)
  if type(name) == "table" then
    record("build", name, { name = name.name })
    return
  end
  if type(name) ~= "string" then
    error('build expects a name: write build "hello" { ... }', 2)
  end
  local line = where()
  return function(args)
    if type(args) ~= "table" then
      error('build "' .. name .. '" expects a table: write build "' .. name .. '" { ... }', 2)
    end
    local d = record("build", args, { name = name })
    d.line = line
  end
end

-- matrix { goos = {...}, goarch = {...}, ... } is a value, used as targets.
function dsl.matrix(args)
  if type(args) ~= "table" then
    error("matrix expects a table: write matrix { goos = { ... }, goarch = { ... } }", 2)
  end
  return { __matrix = args, __line = where() }
end

-- env(name, default): the only window on the environment; every read is
-- recorded as a build input.
function dsl.env(name, default)
  if type(name) ~= "string" then
    error("env expects a variable name: write env(\"VERSION\", \"0.0.0-dev\")", 2)
  end
  if default ~= nil and type(default) ~= "string" then
    error("env: the default for '" .. name .. "' must be a string", 2)
  end
  return env_read(name, default)
end

dsl.print = print_err

-- What a build file may use from the standard library.  No io, os, load,
-- loadstring, dofile, loadfile, require, debug, collectgarbage, pcall or
-- coroutine (catching errors would defeat the instruction and memory caps),
-- and no math.random (a build file must describe one release, not many).
local safe = {
  "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawlen",
  "select", "tonumber", "tostring", "type", "getmetatable", "setmetatable",
  "_VERSION",
}
for _, k in ipairs(safe) do dsl[k] = _G[k] end

-- A __gc metamethod runs when the state is collected or closed, after the
-- build file's run and outside its budget (an endless loop there hung the
-- loader): refuse it.  Lua looks __gc up raw, and so does this check.
local real_setmetatable, raw_get = setmetatable, rawget
dsl.setmetatable = function(t, mt)
  if type(mt) == "table" and raw_get(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not available in a build file", 2)
  end
  return real_setmetatable(t, mt)
end

local function copy(t, except)
  local c = {}
  for k, v in pairs(t) do
    if not (except and except[k]) then c[k] = v end
  end
  return c
end

dsl.string = copy(string, { dump = true })
-- Methods on string values reach the real string table through the string
-- metatable: remove dump there too, and hide the metatable itself.
string.dump = nil
getmetatable("").__metatable = false
dsl.table = copy(table)
dsl.math = copy(math, { random = true, randomseed = true })
dsl.utf8 = copy(utf8)

-- Names that exist in standard Lua but not here get a clear error instead
-- of "attempt to call a nil value".
local removed = {
  io = true, os = true, load = true, loadstring = true, dofile = true,
  loadfile = true, require = true, debug = true,
  collectgarbage = true, pcall = true, xpcall = true, coroutine = true,
  rawget = true, rawset = true,
}

local sandbox = setmetatable(dsl, {
  __index = function(_, k)
    if removed[k] then
      error("'" .. tostring(k) .. "' is not available in a build file (release.lua is sandboxed: no files, processes or environment except env())", 2)
    end
    error("unknown name '" .. tostring(k) .. "' (a typo? the DSL has project, go, build, matrix, archive, image, package, checksums, sbom, cache, signing, cc, before, after, env)", 2)
  end,
  __newindex = function(t, k, v)
    rawset(t, k, v)
  end,
  __metatable = false,
})

return sandbox, decls
