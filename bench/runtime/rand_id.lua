-- wrk script: GET $TARGET_PREFIX<random id 1..10^6> so no per-path match cache can hide the router.
local prefix = os.getenv("TARGET_PREFIX") or "/api/v1/res99/"
math.randomseed(os.time())
request = function()
  return wrk.format("GET", prefix .. math.random(1, 1000000))
end
