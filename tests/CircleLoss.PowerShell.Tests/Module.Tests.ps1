#Requires -Version 7.4
# The module as a user gets it: its folder, its manifest, a clean import in a new pwsh, the native library
# found on its own, Get-CircleLossBackend, help for every cmdlet, tab completion, and the packed .nupkg.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $GoldenDir,
    [Parameter(Mandatory)] [string] $RepoRoot
)

BeforeDiscovery {
    $cmdlets = 'ConvertTo-UnitEmbedding', 'Get-CircleLossBackend', 'Measure-CircleLoss'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModulePath -Force
    $moduleBase = Split-Path -Parent $ModulePath
    $version = (Get-Content -Raw -LiteralPath (Join-Path $RepoRoot 'version.txt')).Trim()
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'The module folder' {
    It 'holds the manifest, the assemblies, the help and the native library under linux-x64/' {
        foreach ($file in 'CircleLoss.psd1', 'CircleLoss.PowerShell.dll', 'CircleLoss.Interop.dll',
            'Microsoft.Extensions.Logging.Abstractions.dll', 'CircleLoss.Format.ps1xml',
            'en-US/CircleLoss.PowerShell.dll-Help.xml', 'en-US/about_CircleLoss.help.txt', 'linux-x64/libcircleloss.so') {
            Join-Path $moduleBase $file | Should -Exist -Because "the module needs $file"
        }
    }

    It 'ships nothing PowerShell provides or ignores (System.Management.Automation, deps.json, runtimes/)' {
        Join-Path $moduleBase 'System.Management.Automation.dll' | Should -Not -Exist
        Get-ChildItem -LiteralPath $moduleBase -Filter '*.deps.json' | Should -BeNullOrEmpty
        Join-Path $moduleBase 'runtimes' | Should -Not -Exist
    }

    It 'has a valid manifest whose version is version.txt' {
        $manifest = Test-ModuleManifest -Path $ModulePath
        $manifest.Version | Should -Be ([version]$version)
        $manifest.RootModule | Should -Be 'CircleLoss.PowerShell.dll'
        $manifest.PowerShellVersion | Should -Be ([version]'7.6')
        foreach ($assembly in $manifest.RequiredAssemblies) { Join-Path $moduleBase $assembly | Should -Exist }
        foreach ($file in $manifest.FileList) { $file | Should -Exist }
    }

    It 'exports exactly its three cmdlets, each with an approved verb' {
        $module = Get-Module CircleLoss
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @('ConvertTo-UnitEmbedding', 'Get-CircleLossBackend', 'Measure-CircleLoss')
        $module.ExportedFunctions.Count | Should -Be 0
        $approved = (Get-Verb).Verb
        foreach ($cmdlet in $module.ExportedCmdlets.Values) { $cmdlet.Verb | Should -BeIn $approved }
    }
}

Describe 'A new pwsh' {
    It 'imports the module from its folder and runs the README quick start: it prints the golden loss' {
        $case = Read-GoldenCase (Join-Path $GoldenDir '01_self_n8_d4.json')
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($moduleBase -replace "'", "''")'
`$case = Get-Content -Raw '$((Join-Path $GoldenDir '01_self_n8_d4.json') -replace "'", "''")' | ConvertFrom-Json
`$result = Measure-CircleLoss -Label `$case.input.labels -Embedding `$case.input.embeddings
'{0:R}' -f `$result.Loss
"@
        $run = Invoke-FreshPwsh $script -Environment @{ CIRCLELOSS_NATIVE_PATH = $null }
        $run.Errors | Should -BeNullOrEmpty
        $run.ExitCode | Should -Be 0
        $printed = [double]::Parse($run.Output.Trim(), [cultureinfo]::InvariantCulture)
        Assert-Close $printed $case.expected.keras.loss $Float64Tolerance 'the printed loss'
    }

    It 'loads the native library from the module''s linux-x64 folder, with no environment variable set' {
        $script = "Import-Module '$($moduleBase -replace "'", "''")'; (Get-CircleLossBackend).LibraryPath"
        $run = Invoke-FreshPwsh $script -Environment @{ CIRCLELOSS_NATIVE_PATH = $null; LD_LIBRARY_PATH = $null }
        $run.ExitCode | Should -Be 0
        $run.Output.Trim() | Should -Be (Join-Path $moduleBase 'linux-x64/libcircleloss.so')
    }

    It 'reports a native library that cannot be loaded as ResourceUnavailable, listing the path tried' {
        $missing = Join-Path ([System.IO.Path]::GetTempPath()) 'no-such-folder/libcircleloss.so'
        $script = @"
Import-Module '$($moduleBase -replace "'", "''")'
try { Get-CircleLossBackend -ErrorAction Stop; 'no error' }
catch { [pscustomobject]@{ Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Message = "`$_" } | ConvertTo-Json -Compress }
"@
        $run = Invoke-FreshPwsh $script -Environment @{ CIRCLELOSS_NATIVE_PATH = $missing }
        $record = $run.Output | ConvertFrom-Json
        $record.Id | Should -BeLike 'NativeLibraryUnavailable,*'
        $record.Category | Should -Be 'ResourceUnavailable'
        $record.Message | Should -BeLike "*$missing*"
        $record.Message | Should -BeLike '*CIRCLELOSS_NATIVE_PATH*'
    }
}

Describe 'Get-CircleLossBackend' {
    BeforeAll { $info = Get-CircleLossBackend }

    It 'reports the library''s version and path' {
        $info.LibraryVersion | Should -Be $version
        $info.ModuleVersion | Should -Be $version
        $info.LibraryPath | Should -Exist
        $info.LibraryPath | Should -BeLike '*libcircleloss.so'
    }

    It 'reports the CPU backend: threads, GEMM and the CPU features it uses' {
        $info.CpuThreads | Should -BeGreaterOrEqual 1
        $info.CpuDetail | Should -BeLike '*GEMM*'
        $info.CpuDetail | Should -BeLike '*CPU features:*'
        if ($info.CpuDetail -notlike '*CPU features: baseline*') { $info.CpuFeatures.Count | Should -BeGreaterThan 0 }
    }

    It 'says whether CUDA is usable, with the devices or the reason' {
        $info.CudaAvailable | Should -BeOfType [bool]
        $info.CudaDetail | Should -Not -BeNullOrEmpty
        if ($info.CudaAvailable) {
            $info.CudaUnavailableReason | Should -BeNullOrEmpty
            "$($info.AutoSelects)" | Should -Be 'Cuda'
        }
        else {
            $info.CudaUnavailableReason | Should -Be $info.CudaDetail
            "$($info.AutoSelects)" | Should -Be 'Cpu'
        }
    }

    It 'agrees with the backend a computation actually uses' {
        $r = Measure-CircleLoss -Label 0, 0, 1 -Embedding @(@(1.0, 0.0), @(0.6, 0.8), @(0.0, 1.0))
        $r.Backend | Should -Be $info.AutoSelects
        if (-not $info.CudaAvailable) { $r.FallbackReason | Should -Not -BeNullOrEmpty }
    }
}

Describe 'Help' {
    It 'has a synopsis, a description and examples for <_>' -ForEach $cmdlets {
        $help = Get-Help -Name $_ -Full
        $help.Synopsis | Should -Not -BeLike "$_ *[[]*"   # not the syntax PowerShell makes up without help
        $help.Synopsis.Length | Should -BeGreaterThan 20
        ($help.description.Text -join ' ').Length | Should -BeGreaterThan 50
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        foreach ($example in $help.examples.example) { $example.code | Should -Not -BeNullOrEmpty }
    }

    It 'documents every parameter of <_>, and only those' -ForEach $cmdlets {
        $help = Get-Help -Name $_ -Full
        $parameters = @((Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)
        $entries = @(if ($help.parameters -and $help.parameters.PSObject.Properties['parameter']) { $help.parameters.parameter })
        $documented = @($entries | ForEach-Object name | Sort-Object)
        $documented | Should -Be $parameters
        foreach ($p in $entries) { ($p.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a description" }
    }

    It 'answers Get-Help Measure-CircleLoss -Examples' {
        $text = Get-Help Measure-CircleLoss -Examples | Out-String -Width 200
        $text | Should -BeLike '*Example 1:*'
        $text | Should -BeLike '*Import-Csv*Measure-CircleLoss*'
    }

    It 'has the about_CircleLoss topic' {
        $script = "Import-Module '$($moduleBase -replace "'", "''")'; Get-Help about_CircleLoss | Out-String"
        $run = Invoke-FreshPwsh $script -Environment @{ PSModulePath = "$(Split-Path $moduleBase)" }
        $run.Output | Should -BeLike '*about_CircleLoss*SumOverBatchSize*'
    }

    It 'ships the MAML that help/New-MamlHelp.ps1 writes from help/CircleLoss.help.psd1 (no drift)' {
        $generator = Join-Path $RepoRoot 'src/CircleLoss.PowerShell/help/New-MamlHelp.ps1'
        $output = Join-Path $TestDrive 'help.xml'
        $script = "& '$($generator -replace "'", "''")' -ModulePath '$($ModulePath -replace "'", "''")' -OutputPath '$($output -replace "'", "''")'"
        $run = Invoke-FreshPwsh $script
        $run.Errors | Should -BeNullOrEmpty
        $run.ExitCode | Should -Be 0
        $expected = Get-Content -Raw -LiteralPath $output
        $shipped = Join-Path $RepoRoot 'src/CircleLoss.PowerShell/en-US/CircleLoss.PowerShell.dll-Help.xml'
        Get-Content -Raw -LiteralPath $shipped | Should -BeExactly $expected -Because 'run help/New-MamlHelp.ps1 after changing a cmdlet or its help text'
        Get-Content -Raw -LiteralPath (Join-Path $moduleBase 'en-US/CircleLoss.PowerShell.dll-Help.xml') | Should -BeExactly $expected
    }
}

Describe 'Tab completion' {
    It 'completes -Reduction values' {
        $completions = (TabExpansion2 -inputScript 'Measure-CircleLoss -Reduction Su' -cursorColumn 32).CompletionMatches.CompletionText
        @($completions | Sort-Object) | Should -Be @('Sum', 'SumOverBatchSize')
        $all = (TabExpansion2 -inputScript 'Measure-CircleLoss -Reduction ' -cursorColumn 30).CompletionMatches.CompletionText
        @($all | Sort-Object) | Should -Be @('Mean', 'MeanWithSampleWeight', 'None', 'Sum', 'SumOverBatchSize')
    }

    It 'completes -Backend, -GradientMode and -Precision values, and parameter names' {
        (TabExpansion2 -inputScript 'Measure-CircleLoss -Backend ' -cursorColumn 28).CompletionMatches.CompletionText | Should -Be @('Auto', 'Cpu', 'Cuda')
        (TabExpansion2 -inputScript 'Measure-CircleLoss -GradientMode ' -cursorColumn 33).CompletionMatches.CompletionText | Should -Be @('Keras', 'Paper')
        (TabExpansion2 -inputScript 'Measure-CircleLoss -Precision ' -cursorColumn 30).CompletionMatches.CompletionText | Should -Be @('Double', 'Single')
        @((TabExpansion2 -inputScript 'Measure-CircleLoss -Refer' -cursorColumn 25).CompletionMatches.CompletionText | Sort-Object) |
            Should -Be @('-ReferenceEmbedding', '-ReferenceLabel')
    }
}

Describe 'The packed module' {
    It 'packs into a .nupkg that Install-PSResource installs from a local repository, and the installed module computes golden case 01' {
        # The layout without the CUDA provider (large, and not what this checks).
        $folder = Join-Path $TestDrive 'pack/CircleLoss'
        $null = New-Item -ItemType Directory -Force -Path $folder
        Copy-Item -Path (Join-Path $moduleBase '*') -Destination $folder -Recurse -Exclude 'libcircleloss_cuda*'
        Get-ChildItem -LiteralPath $folder -Recurse -Filter 'libcircleloss_cuda*' | Remove-Item
        $repository = Join-Path $TestDrive 'repository'
        $null = New-Item -ItemType Directory -Force -Path $repository
        $packer = Join-Path $RepoRoot 'src/CircleLoss.PowerShell/Pack-Module.ps1'
        $case = Join-Path $GoldenDir '01_self_n8_d4.json'
        $script = "& '$($packer -replace "'", "''")' -ModuleFolder '$($folder -replace "'", "''")' -Destination '$($repository -replace "'", "''")' -GoldenCase '$($case -replace "'", "''")'; exit `$LASTEXITCODE"
        $run = Invoke-FreshPwsh $script
        $run.ExitCode | Should -Be 0 -Because "$($run.Output)`n$($run.Errors)"
        Join-Path $repository "CircleLoss.$version.nupkg" | Should -Exist
        $run.Output | Should -BeLike '*installed CircleLoss*relative error*'
    }
}
