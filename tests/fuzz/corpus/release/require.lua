-- expect: release.lua:2: 'require' is not available in a build file
local lfs = require("lfs")
