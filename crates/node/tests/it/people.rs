//! People through the user interfaces: accounts logging in over HTTP (wrong passwords, locks,
//! second factors, logout), forged sessions, console forms without their CSRF token, and the
//! administrator's users page and API.

use serde_json::Value;

use crate::ledger::{LedgerNode, csrf_of, form_body, login_person, no_redirect, start, start_configured};
use crate::test_node::client;

const PASSWORD: &str = "correct horse battery staple";

fn cookie(session: &str) -> String {
    format!("borderlink_session={session}")
}

async fn status(n: &LedgerNode, path: &str, session: &str) -> u16 {
    no_redirect()
        .get(format!("{}{path}", n.base))
        .header("cookie", cookie(session))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post_form(n: &LedgerNode, path: &str, session: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let r = no_redirect()
        .post(format!("{}{path}", n.base))
        .header("cookie", cookie(session))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(pairs))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_person_logs_in_with_a_password_acts_by_role_and_logs_out() {
    let n = start().await;
    assert_eq!(n.add_user("amina", &["officer"], PASSWORD, false).await.0, 201);
    let session = login_person(&n.base, "amina", PASSWORD, None).await.expect("the password opens a session");
    assert_eq!(status(&n, "/api/v1/risk/queue", &session).await, 200, "an officer of a customs node reads risk");
    assert_eq!(status(&n, "/api/v1/users", &session).await, 403, "an officer does not manage users");
    assert_eq!(status(&n, "/admin/users", &session).await, 403);
    let csrf = csrf_of(&n.base, &cookie(&session)).await;
    assert_eq!(post_form(&n, "/logout", &session, &[("csrf", &csrf)]).await.0, 303);
    assert_eq!(status(&n, "/api/v1/risk/queue", &session).await, 401, "logout ended the session");
    assert_eq!(status(&n, "/ledger", &session).await, 303);
}

#[tokio::test]
async fn wrong_passwords_are_refused_counted_and_lock_the_account() {
    let n = start_configured(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    assert_eq!(n.add_user("amina", &["analyst"], PASSWORD, false).await.0, 201);
    let (code, page) = login_person(&n.base, "amina", "not the password", None).await.unwrap_err();
    assert_eq!(code, 401);
    assert!(page.contains("Wrong username or password."), "{page}");
    let (code, unknown) = login_person(&n.base, "nobody", "not the password", None).await.unwrap_err();
    assert_eq!(code, 401);
    assert!(unknown.contains("Wrong username or password."), "an unknown user reads the same");
    for _ in 1..borderlink_access::MAX_FAILURES {
        assert!(login_person(&n.base, "amina", "not the password", None).await.is_err());
    }
    let (code, page) = login_person(&n.base, "amina", PASSWORD, None).await.unwrap_err();
    assert_eq!(code, 401);
    assert!(page.contains("locked"), "the right password after five failures: {page}");
    let metrics = client()
        .get(format!("http://{}/metrics", n.metrics.expect("metrics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in ["bad_credentials", "locked"] {
        assert!(
            metrics.lines().any(|l| l.starts_with("borderlink_login_failed_total{") && l.contains(&format!("reason=\"{reason}\""))),
            "{reason} is not counted:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn a_second_factor_is_required_refused_when_wrong_and_accepted_when_right() {
    let n = start().await;
    let (code, added) = n.add_user("tomas", &["risk-officer"], PASSWORD, true).await;
    assert_eq!(code, 201, "{added}");
    let uri = added["totpUri"].as_str().expect("the enrolment URI, once").to_owned();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let (code, page) = login_person(&n.base, "tomas", PASSWORD, None).await.unwrap_err();
    assert_eq!(code, 401);
    assert!(page.contains("needs its one-time code"), "{page}");
    let now = borderlink_node::ordering::now_ms();
    let right = borderlink_access::totp::code_of_uri(&uri, now).expect("a code");
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let (_, page) = login_person(&n.base, "tomas", PASSWORD, Some(wrong)).await.unwrap_err();
    assert!(page.contains("Wrong one-time code."), "{page}");
    let session = login_person(&n.base, "tomas", PASSWORD, Some(&right)).await.expect("password and code");
    assert_eq!(status(&n, "/risk", &session).await, 200);
    let (code, list) = {
        let auth = n.auth(0, "GET", "/api/v1/users", b"");
        let r = client().get(format!("{}/api/v1/users", n.base)).header("authorization", auth).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(code, 200);
    assert!(list.contains("\"totp\":true") && !list.contains("secret") && !list.contains("argon2"), "{list}");
}

#[tokio::test]
async fn a_forged_or_foreign_session_is_refused() {
    let n = start().await;
    for forged in ["ab".repeat(32), "<script>".into(), String::new(), n.token.clone()] {
        assert_eq!(status(&n, "/api/v1/network", &forged).await, 401, "{forged}");
        assert_eq!(status(&n, "/ledger", &forged).await, 303, "{forged}");
    }
    // A session of another node (same consortium) opens nothing here.
    let other = start().await;
    assert_eq!(status(&n, "/api/v1/network", &other.session).await, 401);
}

#[tokio::test]
async fn console_forms_need_their_sessions_csrf_token_and_this_site_as_origin() {
    let n = start().await;
    assert_eq!(n.add_user("root.admin", &["administrator"], PASSWORD, false).await.0, 201);
    let session = login_person(&n.base, "root.admin", PASSWORD, None).await.expect("a session");
    let add = [("username", "new.user"), ("role-auditor", "on"), ("password", PASSWORD)];
    let (code, page) = post_form(&n, "/admin/users", &session, &add).await;
    assert_eq!(code, 403, "{page}");
    assert!(page.contains("CSRF") || page.contains("token"), "the refusal explains itself: {page}");
    // Another session's token is no better.
    let other = login_person(&n.base, "root.admin", PASSWORD, None).await.expect("a second session");
    let others_token = csrf_of(&n.base, &cookie(&other)).await;
    let with_other = [add.as_slice(), &[("csrf", others_token.as_str())]].concat();
    assert_eq!(post_form(&n, "/admin/users", &session, &with_other).await.0, 403);
    let token = csrf_of(&n.base, &cookie(&session)).await;
    let with_token = [add.as_slice(), &[("csrf", token.as_str())]].concat();
    let r = no_redirect()
        .post(format!("{}/admin/users", n.base))
        .header("cookie", cookie(&session))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&with_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a form posted from another site");
    let (code, page) = post_form(&n, "/admin/users", &session, &with_token).await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Account new.user added."), "{page}");
    assert!(login_person(&n.base, "new.user", PASSWORD, None).await.is_ok());
}

#[tokio::test]
async fn an_administrator_disables_and_resets_accounts_and_their_sessions_end() {
    let n = start().await;
    assert_eq!(n.add_user("root.admin", &["administrator"], PASSWORD, false).await.0, 201);
    assert_eq!(n.add_user("tr.user", &["trader-user"], PASSWORD, false).await.0, 201);
    let admin = login_person(&n.base, "root.admin", PASSWORD, None).await.expect("admin");
    let trader = login_person(&n.base, "tr.user", PASSWORD, None).await.expect("trader");
    assert_eq!(status(&n, "/api/v1/network", &trader).await, 200, "a trader user reads the ledger");
    assert_eq!(status(&n, "/api/v1/risk/queue", &trader).await, 403, "but not risk data");
    let token = csrf_of(&n.base, &cookie(&admin)).await;
    let (code, page) = post_form(&n, "/admin/users/tr.user/password", &admin, &[("csrf", &token)]).await;
    assert_eq!(code, 200, "{page}");
    let at = page.find("id=\"generated-password\">").expect("the new password, shown once")
        + "id=\"generated-password\">".len();
    let new_password = page[at..].split('<').next().unwrap().to_owned();
    assert_eq!(status(&n, "/api/v1/network", &trader).await, 401, "a reset ends the sessions");
    assert!(login_person(&n.base, "tr.user", PASSWORD, None).await.is_err());
    let trader = login_person(&n.base, "tr.user", &new_password, None).await.expect("the new password");
    let (code, _) = post_form(&n, "/admin/users/tr.user/disable", &admin, &[("csrf", &token)]).await;
    assert_eq!(code, 200);
    assert_eq!(status(&n, "/api/v1/network", &trader).await, 401, "disabling ends the sessions");
    let (_, page) = login_person(&n.base, "tr.user", &new_password, None).await.unwrap_err();
    assert!(page.contains("disabled"), "{page}");
}

#[tokio::test]
async fn the_users_api_validates_accounts_and_names_its_refusals() {
    let n = start().await;
    for (username, roles, password, code) in [
        ("<b>x</b>", vec!["officer"], PASSWORD, "invalid_account"),
        ("bob", vec!["root"], PASSWORD, "invalid_account"),
        ("bob", vec![], PASSWORD, "invalid_account"),
        ("bob", vec!["officer"], "short", "invalid_account"),
    ] {
        let (status, body) = n.add_user(username, &roles, password, false).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{username} {roles:?}: {body}");
    }
    assert_eq!(n.add_user("bob", &["auditor"], PASSWORD, false).await.0, 201);
    let (status, body) = n.add_user("bob", &["auditor"], PASSWORD, false).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("account_exists")));
    // A generated password is returned once and opens the account.
    let body = serde_json::to_vec(&serde_json::json!({"username": "gen.user", "roles": ["auditor"]})).unwrap();
    let r = n.post_signed(0, "/api/v1/users", body).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    let added: Value = r.json().await.unwrap();
    let generated = added["password"].as_str().expect("a generated password").to_owned();
    assert!(login_person(&n.base, "gen.user", &generated, None).await.is_ok());
    // Another member's signature manages no accounts here.
    let auth = n.auth(1, "GET", "/api/v1/users", b"");
    let r = client().get(format!("{}/api/v1/users", n.base)).header("authorization", auth).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
