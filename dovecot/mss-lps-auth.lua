-- mss-sidecar — Dovecot 2.3 Lua passdb for the API LPS (Référentiel socle MSSanté #1
-- v1.6.0, §6.8.4). It decides every login of an MSSanté mailbox, whatever the service and
-- the listener, and leaves the others to the site's passdbs. Include it BEFORE them
-- (dovecot/conf.d/05-mss-lps-passdb.conf): a passdb tried first costs every XOAUTH2 login
-- its failure (PAM: about 2 s each).
--
-- 1. XOAUTH2 / OAUTHBEARER: Dovecot decodes AUTHENTICATE XOAUTH2 / AUTH XOAUTH2 and hands
--    the token to this passdb as the password. The script sends the mailbox (user=), the
--    token, the service, the mechanism and the client address to the mss-sidecar checker,
--    which does EX_LPS_0900 steps 5–8 (or redeems the one-time ticket, prefix "mssac1.",
--    of the mss-sidecar front that already decided: 143, 587), and maps its answer:
--      200 OK        → PASSDB_RESULT_OK
--      403 FAIL …    → PASSDB_RESULT_PASSWORD_MISMATCH: IMAP "NO [AUTHENTICATIONFAILED]"
--                      (EX_LPS_0710)
--      anything else → PASSDB_RESULT_INTERNAL_FAILURE: a temporary failure, never a success
-- 2. PLAIN/LOGIN whose password is a ticket of mss-sidecar's AUTH-CLI front: the same
--    endpoint (EX_LPS_1200: the front has checked the certificate and the structure).
-- 3. Any other password login (PLAIN, LOGIN, and the mechanisms that look a password up:
--    CRAM-MD5, DIGEST-MD5, SCRAM…): EX_LPS_0600, EX_LPS_0900, EX_LPS_1200 — an MSSanté
--    mailbox is opened with a PSC token or an AUTH-CLI certificate, never with a password.
--    The script asks the checker's password endpoint whether the user is one of the
--    operator's MSSanté mailboxes (the registry, or an address of operator.domains), never
--    sending the password:
--      403 FAIL mssante-mailbox → PASSDB_RESULT_PASSWORD_MISMATCH: refused, and the chain
--                                 ends (result_failure = return-fail): no site password
--                                 opens an MSSanté mailbox
--      200 NEXT                 → PASSDB_RESULT_NEXT: not ours, the site's passdbs decide
--      anything else            → PASSDB_RESULT_INTERNAL_FAILURE: undecided, never a success
-- Tokens, tickets and passwords are never logged.
--
-- Configuration: passdb { driver = lua  args = file=<this file> blocking=yes }; the checker
-- URL comes from MSS_AUTH_CHECKER_URL (import_environment), default below; the password
-- endpoint is the same URL ending in /v1/password-login.

local CHECKER_URL = os.getenv("MSS_AUTH_CHECKER_URL") or "http://127.0.0.1:425/v1/xoauth2"
local PASSWORD_URL = (string.gsub(CHECKER_URL, "/v1/xoauth2$", "/v1/password-login"))
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

local function post(url, fields)
  local request = http_client:request({ url = url, method = "POST" })
  request:add_header("Content-Type", "application/x-www-form-urlencoded")
  request:set_payload(form(fields))
  local response = request:submit()
  return response:status(), string.sub(response:payload() or "", 1, 200)
end

-- EX_LPS_0600, EX_LPS_0900, EX_LPS_1200: a password never opens an MSSanté mailbox. The
-- checker says whether the user is one; the password itself is not sent.
local function password_login(req, mech)
  local status, answer = post(PASSWORD_URL, {
    { "user", req.user },
    { "service", req.service },
    { "mech", mech },
    { "rip", req.rip },
    { "session", req.session },
  })
  if status == 200 then
    return dovecot.auth.PASSDB_RESULT_NEXT, ""
  end
  if status == 403 then
    req:log_info("mss-sidecar refused a password login: " .. answer)
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  end
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "mss-sidecar checker " .. PASSWORD_URL .. " answered " .. status .. " " .. answer
end

-- EX_LPS_0900: every PSC login is decided by the checker; EX_LPS_1200: so is every AUTH-CLI one.
function auth_password_verify(req, token)
  local mech = string.upper(req.mech or "")
  local ticket = TICKET_MECHANISMS[mech] and string.sub(token, 1, #TICKET_PREFIX) == TICKET_PREFIX
  if not PSC_MECHANISMS[mech] and not ticket then
    return password_login(req, mech)
  end
  local status, answer = post(CHECKER_URL, {
    { "user", req.user },
    { "token", token },
    { "service", req.service },
    { "mech", mech },
    { "rip", req.rip },
    { "session", req.session },
    { "client_id", req.client_id },
  })
  if status == 200 then
    return dovecot.auth.PASSDB_RESULT_OK, {}
  end
  if status == 403 then
    -- EX_LPS_0710: an authentication failure, with the checker's reason in Dovecot's log.
    req:log_info("mss-sidecar refused the login: " .. answer)
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  end
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "mss-sidecar checker " .. CHECKER_URL .. " answered " .. status .. " " .. answer
end

-- No password can be looked up here. A login whose mechanism looks the password up
-- (CRAM-MD5, DIGEST-MD5, SCRAM…, if the site enables one) is a password login like PLAIN:
-- refused for an MSSanté mailbox, the site's passdbs decide for the others. A lookup without
-- a mechanism — LMTP asking whether a recipient exists, with a static userdb — is not ours
-- to answer: PASSDB_RESULT_NEXT leaves it to the site's passdbs. USER_UNKNOWN would end the
-- chain (result_failure = return-fail) and Dovecot would refuse every delivery.
function auth_passdb_lookup(req)
  local mech = string.upper(req.mech or "")
  if mech ~= "" then
    return password_login(req, mech)
  end
  return dovecot.auth.PASSDB_RESULT_NEXT, ""
end
