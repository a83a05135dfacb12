using VizHtml.UnityPackager;

// dotnet run --project unity/VizHtml.UnityPackager -- [output folder]   (scripts/unity-package.sh)
var output = args.Length > 0 ? args[0] : Path.Combine(Packager.RepositoryRoot(), "artifacts", "unity");
var result = await Packager.BuildAsync(output, Console.Out);
Console.WriteLine($"Unity package: {result.Folder}");
Console.WriteLine($"Tarball (Package Manager > Add package from tarball): {result.Tarball}");
return 0;
