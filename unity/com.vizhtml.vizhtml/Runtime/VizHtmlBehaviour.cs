using System;
using System.Threading.Tasks;
using UnityEngine;

namespace VizHtml.Unity
{
    /// <summary>
    /// Runs a VizHtml server beside the scene: started when the component is enabled, stopped when it is disabled or the
    /// application quits, and its handlers run on Unity's main thread, inside <see cref="Update"/> (VizDispatchMode.Manual),
    /// so they may touch GameObjects. Register pages and handlers in your own component's Start, through <see cref="Server"/>.
    /// </summary>
    [DisallowMultipleComponent]
    public sealed class VizHtmlBehaviour : MonoBehaviour
    {
        [Tooltip("The TCP port; 0 picks a free one.")]
        [SerializeField]
        private int port = 8080;

        [Tooltip("A page served at /vizhtml/<name>/ (optional): its HTML.")]
        [SerializeField]
        private TextAsset page;

        [Tooltip("The page's name in its URL.")]
        [SerializeField]
        private string pageName = "panel";

        [Tooltip("A secret every browser must present (the printed URL and QR code carry it); empty for none.")]
        [SerializeField]
        private string accessKey = string.Empty;

        [Tooltip("At most this many handler calls per frame; 0 runs everything pending.")]
        [SerializeField]
        private int maxHandlersPerFrame;

        /// <summary>The running server (null while the component is disabled).</summary>
        public VizHtmlServer Server { get; private set; }

        private void OnEnable()
        {
            var options = new VizHtmlOptions
            {
                Port = port,
                Dispatch = VizDispatchMode.Manual,
                AccessKey = string.IsNullOrEmpty(accessKey) ? null : accessKey,
                LoggerFactory = UnityLog.Factory,
            };
            Server = new VizHtmlServer(options);
            try
            {
                // The standalone host binds and starts accepting without waiting on anything: this completes at once.
                Server.StartAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                Debug.LogError("VizHtml did not start: " + ex.Message);
                Server = null;
                enabled = false;
                return;
            }

            if (page != null)
            {
                Server.RegisterHtml(pageName, page.text);
                Debug.Log(ConsoleBanner.For(Server, pageName));
            }
            else
            {
                Debug.Log(ConsoleBanner.For(Server, null));
            }
        }

        private void Update()
        {
            // Handlers for what arrived since the last frame, in order, here on the main thread.
            Server?.DispatchPending(maxHandlersPerFrame > 0 ? maxHandlersPerFrame : int.MaxValue);
        }

        private void OnDisable() => Stop();

        private void OnApplicationQuit() => Stop();

        private void Stop()
        {
            var server = Server;
            Server = null;
            if (server == null)
            {
                return;
            }

            // Pages see a clean close (1001) and reconnect to the next run by themselves. Bounded: a quit never hangs here.
            Task.Run(() => server.DisposeAsync().AsTask()).Wait(TimeSpan.FromSeconds(3));
        }
    }
}
