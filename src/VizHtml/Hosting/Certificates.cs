using System.Security.Cryptography.X509Certificates;

namespace VizHtml.Hosting;

/// <summary>The TLS certificate the options name, for either host.</summary>
internal static class Certificates
{
    /// <summary><see cref="VizHtmlOptions.Certificate"/>, or the one loaded from <see cref="VizHtmlOptions.CertificatePath"/> (PFX/P12 or PEM), or null for plain HTTP.</summary>
    public static X509Certificate2? Load(VizHtmlOptions options)
    {
        if (options.Certificate is not null || options.CertificatePath is not { } path)
        {
            return options.Certificate;
        }

        var extension = Path.GetExtension(path).ToUpperInvariant();
#if NET
        return extension is ".PFX" or ".P12"
            ? X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword)
            : X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath);
#else
        return extension is ".PFX" or ".P12"
            ? new X509Certificate2(path, options.CertificatePassword)
            : throw new NotSupportedException($"{path}: PEM certificates need the .NET 10 build of VizHtml; on .NET Standard give a .pfx or .p12 file (openssl pkcs12 -export).");
#endif
    }
}
