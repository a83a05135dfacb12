using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.UnityPackager;

/// <summary>The package folder and its tarball.</summary>
public sealed record UnityPackage(string Folder, string Tarball, IReadOnlyList<string> Plugins);

/// <summary>
/// Builds the Unity package com.vizhtml.vizhtml: the sources in unity/com.vizhtml.vizhtml (package.json, the component
/// scripts, their assembly definition, link.xml, the sample), the DLLs from unity/plugins (VizHtml's .NET Standard 2.0
/// build and its dependencies) in Runtime/Plugins, listed as the assembly definition's precompiled references, a
/// <c>.meta</c> file with a stable GUID beside every file and folder (a tarball package is immutable: Unity cannot write
/// them), the third-party notices, and <c>com.vizhtml.vizhtml-&lt;version&gt;.tgz</c> in npm's layout (<c>package/...</c>).
/// </summary>
public static class Packager
{
    public const string PackageName = "com.vizhtml.vizhtml";

    public static async Task<UnityPackage> BuildAsync(string output, TextWriter log)
    {
        var root = RepositoryRoot();
        var sources = Path.Combine(root, "unity", PackageName);
        var plugins = Path.Combine(output, "obj", "plugins");
        await RunAsync("dotnet", ["build", Path.Combine(root, "unity", "plugins", "VizHtml.UnityPlugins.csproj"), "-c", "Release", "-o", plugins, "--nologo", "-v", "q"], root, log);

        var folder = Path.Combine(output, PackageName);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        CopyTree(sources, folder);
        var pluginFolder = Path.Combine(folder, "Runtime", "Plugins");
        Directory.CreateDirectory(pluginFolder);
        var dlls = Directory.EnumerateFiles(plugins, "*.dll")
            .Where(f => !Path.GetFileName(f).StartsWith("VizHtml.UnityPlugins", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var dll in dlls)
        {
            File.Copy(dll, Path.Combine(pluginFolder, Path.GetFileName(dll)));
        }

        var names = dlls.Select(Path.GetFileName).ToList();
        WriteAssemblyDefinition(Path.Combine(folder, "Runtime", "VizHtml.Unity.asmdef"), names!);
        File.Copy(Path.Combine(root, "src", "VizHtml", "obj", "jquery", "netstandard2.0", JQueryVersion(root), "package", "LICENSE.txt"), Path.Combine(folder, "jquery-LICENSE.txt"), overwrite: true);
        WriteMetaFiles(folder);

        var version = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "package.json")))!["version"]!.GetValue<string>();
        var tarball = Path.Combine(output, $"{PackageName}-{version}.tgz");
        await WriteTarballAsync(folder, tarball);
        return new UnityPackage(folder, tarball, names!);
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (VizHtml.slnx) was not found above the packager.");
    }

    /// <summary>The GUID Unity will know a file by: stable across builds, from the file's path in the package.</summary>
    public static string GuidFor(string relativePath) =>
        Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(PackageName + "/" + relativePath.Replace('\\', '/'))));

    private static void WriteAssemblyDefinition(string path, IReadOnlyList<string> dlls)
    {
        var definition = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        definition["precompiledReferences"] = new JsonArray([.. dlls.Select(d => (JsonNode)JsonValue.Create(d)!)]);
        File.WriteAllText(path, definition.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>A .meta beside every file and folder; DLLs as plugins for every platform, the rest with the default importer.</summary>
    private static void WriteMetaFiles(string folder)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList())
        {
            var relative = Path.GetRelativePath(folder, entry).Replace('\\', '/');
            if (relative.EndsWith(".meta", StringComparison.Ordinal) || relative.Split('/').Any(part => part.EndsWith('~')))
            {
                // Folders ending in ~ (Samples~) are hidden from Unity's importer: no metas there.
                continue;
            }

            var guid = GuidFor(relative);
            var meta = Directory.Exists(entry)
                ? $"fileFormatVersion: 2\nguid: {guid}\nfolderAsset: yes\nDefaultImporter:\n  externalObjects: {{}}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
                : relative.EndsWith(".dll", StringComparison.Ordinal)
                    ? $"fileFormatVersion: 2\nguid: {guid}\nPluginImporter:\n  externalObjects: {{}}\n  serializedVersion: 2\n  iconMap: {{}}\n  executionOrder: {{}}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 1\n  validateReferences: 1\n  platformData:\n  - first:\n      Any: \n    second:\n      enabled: 1\n      settings: {{}}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
                    : $"fileFormatVersion: 2\nguid: {guid}\nDefaultImporter:\n  externalObjects: {{}}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n";
            File.WriteAllText(entry + ".meta", meta);
        }
    }

    private static async Task WriteTarballAsync(string folder, string tarball)
    {
        await using var file = File.Create(tarball);
        await using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false);
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = "package/" + Path.GetRelativePath(folder, path).Replace('\\', '/');
            await tar.WriteEntryAsync(path, name);
        }
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    private static string JQueryVersion(string root)
    {
        var targets = File.ReadAllText(Path.Combine(root, "src", "VizHtml", "JQuery.targets"));
        var start = targets.IndexOf("<JQueryVersion>", StringComparison.Ordinal) + "<JQueryVersion>".Length;
        return targets[start..targets.IndexOf("</JQueryVersion>", start, StringComparison.Ordinal)];
    }

    private static async Task RunAsync(string program, string[] arguments, string workingDirectory, TextWriter log)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            await log.WriteLineAsync(await output);
            await log.WriteLineAsync(await errors);
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}.");
        }
    }
}
