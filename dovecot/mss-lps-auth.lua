-- mss-sidecar — Dovecot 2.3 Lua passdb for the API LPS (Référentiel socle MSSanté #1
-- v1.6.0, §6.8.4). Dovecot decodes AUTHENTICATE XOAUTH2 / AUTH XOAUTH2 and hands the
-- Bearer token to this passdb as the password; the script sends the mailbox (user=), the
-- token, the service, the mechanism and the client address to the mss-sidecar checker,
-- which does EX_LPS_0900 steps 5–8, and maps its answer:
--   200 OK        → PASSDB_RESULT_OK
--   403 FAIL …    → PASSDB_RESULT_PASSWORD_MISMATCH: IMAP "NO [AUTHENTICATIONFAILED]"
--                   (EX_LPS_0710)
--   anything else → PASSDB_RESULT_INTERNAL_FAILURE: a temporary failure, never a success
-- On SMTP (587) mss-sidecar's front answers the LPS itself and logs in to Postfix with
-- XOAUTH2 and a one-time ticket (prefix "mssac1."), which takes the same way to the checker.
-- PLAIN/LOGIN logins whose password is a ticket of mss-sidecar's AUTH-CLI front go to the
-- same endpoint (EX_LPS_1200: the front has checked the certificate and the structure).
-- Other mechanisms and passwords are not ours: PASSDB_RESULT_NEXT leaves them to the
-- passdbs that follow, if any. Tokens and tickets are never logged.
--
-- Configuration: passdb { driver = lua  args = file=<this file> blocking=yes }; the checker
-- URL comes from MSS_AUTH_CHECKER_URL (import_environment), default below.

local CHECKER_URL = os.getenv("MSS_AUTH_CHECKER_URL") or "http://127.0.0.1:8425/v1/xoauth2"
local PSC_MECHANISMS = { XOAUTH2 = true, OAUTHBEARER = true }
local TICKET_MECHANISMS = { PLAIN = true, LOGIN = true }
local TICKET_PREFIX = "mssac1."

local http_client

function script_init()
  http_client = dovecot.http.client({
    -- The checker answers within its own PSC deadlines; this bounds a hung checker.
    request_timeout_msecs = 15000,
    max_attempts = 1,
    user_agent = "dovecot-mss-lps-auth",
  })
  return 0
end

local function form_escape(value)
  return (string.gsub(value or "", "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function form(fields)
  local parts = {}
  for _, kv in ipairs(fields) do
    parts[#parts + 1] = kv[1] .. "=" .. form_escape(kv[2])
  end
  return table.concat(parts, "&")
end

-- EX_LPS_0900: every PSC login is decided by the checker; EX_LPS_1200: so is every AUTH-CLI one.
function auth_password_verify(req, token)
  local mech = string.upper(req.mech or "")
  local ticket = TICKET_MECHANISMS[mech] and string.sub(token, 1, #TICKET_PREFIX) == TICKET_PREFIX
  if not PSC_MECHANISMS[mech] and not ticket then
    return dovecot.auth.PASSDB_RESULT_NEXT, ""
  end
  local request = http_client:request({ url = CHECKER_URL, method = "POST" })
  request:add_header("Content-Type", "application/x-www-form-urlencoded")
  request:set_payload(form({
    { "user", req.user },
    { "token", token },
    { "service", req.service },
    { "mech", mech },
    { "rip", req.rip },
    { "session", req.session },
    { "client_id", req.client_id },
  }))
  local response = request:submit()
  local status = response:status()
  if status == 200 then
    return dovecot.auth.PASSDB_RESULT_OK, {}
  end
  local answer = string.sub(response:payload() or "", 1, 200)
  if status == 403 then
    -- EX_LPS_0710: an authentication failure, with the checker's reason in Dovecot's log.
    req:log_info("mss-sidecar refused the login: " .. answer)
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  end
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "mss-sidecar checker " .. CHECKER_URL .. " answered " .. status .. " " .. answer
end

-- No password can be looked up here (no CRAM-MD5 and the like): only verification. A lookup
-- without a password — LMTP asking whether a recipient exists, with a static userdb — is not
-- ours to answer: PASSDB_RESULT_NEXT leaves it to the site's passdbs. USER_UNKNOWN would end
-- the chain (result_failure = return-fail) and Dovecot would refuse every delivery.
function auth_passdb_lookup(req)
  return dovecot.auth.PASSDB_RESULT_NEXT, ""
end
