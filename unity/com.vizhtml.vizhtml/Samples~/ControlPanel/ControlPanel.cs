using UnityEngine;
using VizHtml;
using VizHtml.Unity;

/// <summary>
/// The control panel sample: put it on the GameObject that has a VizHtmlBehaviour (with panel.html as its page) and give
/// it something to turn. The tablet's button spins it; its slider sets the speed; every second the tablet gets the frame rate.
/// Handlers run inside VizHtmlBehaviour.Update, on the main thread, so they may touch the scene.
/// </summary>
[RequireComponent(typeof(VizHtmlBehaviour))]
public sealed class ControlPanel : MonoBehaviour
{
    [SerializeField]
    private Transform target;

    private float _speed = 90f;
    private bool _spinning;
    private float _nextReport;

    private void Start()
    {
        var server = GetComponent<VizHtmlBehaviour>().Server;
        if (server == null)
        {
            return;
        }

        server.OnMessage("spin", e => _spinning = !_spinning);
        server.OnMessage("speed", e => _speed = (float)e.Data["value"].GetDouble());
        server.OnConnect(e => e.Client.Send("state", new VizData { ["spinning"] = _spinning, ["speed"] = _speed }));
    }

    private void Update()
    {
        if (_spinning && target != null)
        {
            target.Rotate(0f, _speed * Time.deltaTime, 0f);
        }

        if (Time.time >= _nextReport)
        {
            _nextReport = Time.time + 1f;
            GetComponent<VizHtmlBehaviour>().Server?.SendAll("fps", new VizData { ["value"] = Mathf.Round(1f / Time.smoothDeltaTime) });
        }
    }
}
