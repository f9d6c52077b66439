//! Migrating from kube-rs: the recorder example from kube-rs's documentation
//! (`kube::runtime::events::Recorder`, kube 5.0.0), with only its `use` lines
//! changed, runs against an in-process API.

mod support;

use support::{Answer, MockApi};

/// The documented example, verbatim but for its `use` lines, which were
/// `use kube::runtime::events::{Reporter, Recorder, Event, EventType};` and
/// `use k8s_openapi::api::core::v1::ObjectReference;`. Its client came from
/// a hidden `let client: kube::Client = todo!();`; here it is a parameter.
/// The example leaves the reference empty (`// [...]` marks the fields to
/// fill in).
async fn documented_example(client: kube::Client) -> Result<(), Box<dyn std::error::Error>> {
    use event_kube::compat::{Event, EventType, Recorder, Reporter};
    use k8s_openapi::api::core::v1::ObjectReference;

    let reporter = Reporter {
        controller: "my-awesome-controller".into(),
        instance: std::env::var("CONTROLLER_POD_NAME").ok(),
    };

    let recorder = Recorder::new(client, reporter);

    // references can be made manually using `ObjectMeta` and `ApiResource`/`Resource` info
    let reference = ObjectReference {
        // [...]
        ..Default::default()
    };
    // or for k8s-openapi / kube-derive types, use Resource::object_ref:
    // let reference = myobject.object_ref();
    recorder
        .publish(
            &Event {
                action: "Scheduling".into(),
                reason: "Pulling".into(),
                note: Some("Pulling image `nginx`".into()),
                type_: EventType::Normal,
                secondary: None,
            },
            &reference,
        )
        .await?;
    Ok(())
}

/// The same example with the `// [...]` filled in as a user would: the
/// reference to a Pod `nginx` in `default`.
async fn documented_example_filled_in(
    client: kube::Client,
) -> Result<(), Box<dyn std::error::Error>> {
    use event_kube::compat::{Event, EventType, Recorder, Reporter};
    use k8s_openapi::api::core::v1::ObjectReference;

    let reporter = Reporter {
        controller: "my-awesome-controller".into(),
        instance: std::env::var("CONTROLLER_POD_NAME").ok(),
    };

    let recorder = Recorder::new(client, reporter);

    // references can be made manually using `ObjectMeta` and `ApiResource`/`Resource` info
    let reference = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some("nginx".into()),
        namespace: Some("default".into()),
        uid: Some("0b0a1f7c-0000-4000-8000-000000000002".into()),
        ..Default::default()
    };
    // or for k8s-openapi / kube-derive types, use Resource::object_ref:
    // let reference = myobject.object_ref();
    recorder
        .publish(
            &Event {
                action: "Scheduling".into(),
                reason: "Pulling".into(),
                note: Some("Pulling image `nginx`".into()),
                type_: EventType::Normal,
                secondary: None,
            },
            &reference,
        )
        .await?;
    Ok(())
}

fn nginx() -> k8s_openapi::api::core::v1::ObjectReference {
    k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some("nginx".into()),
        namespace: Some("default".into()),
        uid: Some("0b0a1f7c-0000-4000-8000-000000000002".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn kube_rs_example_publishes_one_event() {
    let (client, api) = MockApi::client();
    documented_example_filled_in(client).await.unwrap();

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, http::Method::POST);
    assert_eq!(
        seen[0].path,
        "/apis/events.k8s.io/v1/namespaces/default/events"
    );
    let body = &seen[0].body;
    assert_eq!(body["action"], "Scheduling");
    assert_eq!(body["reason"], "Pulling");
    assert_eq!(body["note"], "Pulling image `nginx`");
    assert_eq!(body["type"], "Normal");
    assert_eq!(body["reportingController"], "my-awesome-controller");
    assert!(!body["reportingInstance"].as_str().unwrap().is_empty());
    assert_eq!(body["regarding"]["name"], "nginx");
    assert!(
        body["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("nginx.")
    );
    assert!(body.get("related").is_none() && body.get("series").is_none());
}

#[tokio::test]
async fn kube_rs_example_verbatim_runs() {
    let (client, api) = MockApi::client();
    documented_example(client).await.unwrap();
    // An empty reference has no namespace: the event goes to `default`,
    // about nothing in particular, exactly as written.
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].path,
        "/apis/events.k8s.io/v1/namespaces/default/events"
    );
    assert_eq!(seen[0].body["regarding"], serde_json::json!({}));
    assert_eq!(seen[0].body["reason"], "Pulling");
}

#[tokio::test]
async fn api_errors_reach_the_caller_as_kube_errors() {
    let (client, api) = MockApi::client();
    api.script([Answer::status(
        403,
        "Forbidden",
        "events.events.k8s.io is forbidden",
    )]);
    let err = documented_example_filled_in(client).await.unwrap_err();
    let Some(kube::Error::Api(status)) = err.downcast_ref::<kube::Error>() else {
        panic!("not an API error: {err}")
    };
    assert_eq!(status.code, 403);
    assert!(
        status
            .message
            .contains("verbs [\"create\", \"patch\", \"get\"]")
    );
    assert_eq!(api.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn repeats_through_the_facade_fold_into_a_series() {
    let (client, api) = MockApi::client();
    use event_kube::compat::{Event, EventType, Recorder, Reporter};
    let recorder = Recorder::new(
        client,
        Reporter {
            controller: "my-awesome-controller".into(),
            instance: Some("my-awesome-controller-0".into()),
        },
    );
    let event = Event {
        action: "Scheduling".into(),
        reason: "Pulling".into(),
        note: None,
        type_: EventType::Normal,
        secondary: None,
    };
    for _ in 0..5 {
        recorder.publish(&event, &nginx()).await.unwrap();
    }
    recorder.engine().unwrap().flush().await;
    let methods: Vec<_> = api.seen().iter().map(|s| s.method.clone()).collect();
    assert_eq!(
        methods,
        [http::Method::POST, http::Method::PATCH, http::Method::PATCH]
    );
    assert_eq!(api.seen()[2].body["series"]["count"], 5);
}
