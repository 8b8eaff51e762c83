#Requires -Version 7.4
<#
.SYNOPSIS
    Writes the CircleLoss module's MAML help (en-US/CircleLoss.PowerShell.dll-Help.xml).

.DESCRIPTION
    Merges the cmdlets' own metadata (parameter sets, types, positions, pipeline input, aliases), read from
    the built module, with the text in help/CircleLoss.help.psd1 (synopses, descriptions, parameter
    descriptions, defaults, examples), so that the syntax in the help can never drift from the code.
    Fails when a cmdlet or a parameter has no text, or the text names a parameter the cmdlet does not have.
    The output is deterministic (LF line ends, no time stamps): the Pester suite regenerates it and compares.

.EXAMPLE
    ./src/CircleLoss.PowerShell/help/New-MamlHelp.ps1 -ModulePath ./src/CircleLoss.PowerShell/bin/Release/module/CircleLoss/CircleLoss.psd1
#>
[CmdletBinding()]
param(
    # The built module's manifest.
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # The help text.
    [string] $ContentPath = (Join-Path $PSScriptRoot 'CircleLoss.help.psd1'),

    # Where to write the MAML file.
    [string] $OutputPath = (Join-Path (Split-Path $PSScriptRoot) 'en-US/CircleLoss.PowerShell.dll-Help.xml')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$content = Import-PowerShellDataFile -LiteralPath $ContentPath
$module = Import-Module -Name $ModulePath -PassThru -Force
$common = [System.Collections.Generic.HashSet[string]]::new(
    [string[]]([System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters))

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.NewLineChars = "`n"
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$buffer = [System.IO.MemoryStream]::new()
$w = [System.Xml.XmlWriter]::Create($buffer, $settings)

function Element([string] $prefix, [string] $name, [string] $text) {
    $w.WriteStartElement($prefix, $name, $ns[$prefix])
    if ($null -ne $text) { $w.WriteString($text) }
    $w.WriteEndElement()
}

function Paragraphs([string] $prefix, [string] $name, [string[]] $paragraphs) {
    $w.WriteStartElement($prefix, $name, $ns[$prefix])
    foreach ($p in $paragraphs) { Element maml para $p }
    $w.WriteEndElement()
}

function TypeName([type] $type) {
    if ($type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    if ($type.IsArray) { return (TypeName $type.GetElementType()) + '[]' }
    $type.Name
}

function Parameter($info, [hashtable] $text, [hashtable] $defaults, [bool] $mandatory, [string] $position) {
    $pipeline = if ($info.ValueFromPipeline -and $info.ValueFromPipelineByPropertyName) { 'True (ByValue, ByPropertyName)' }
    elseif ($info.ValueFromPipeline) { 'True (ByValue)' }
    elseif ($info.ValueFromPipelineByPropertyName) { 'True (ByPropertyName)' }
    else { 'False' }
    $aliases = if ($info.Aliases.Count) { $info.Aliases -join ', ' } else { 'none' }
    $isSwitch = $info.ParameterType -eq [System.Management.Automation.SwitchParameter]
    $w.WriteStartElement('command', 'parameter', $ns.command)
    $w.WriteAttributeString('required', "$($mandatory.ToString().ToLowerInvariant())")
    $w.WriteAttributeString('variableLength', 'true')
    $w.WriteAttributeString('globbing', 'false')
    $w.WriteAttributeString('pipelineInput', $pipeline)
    $w.WriteAttributeString('position', $position)
    $w.WriteAttributeString('aliases', $aliases)
    Element maml name $info.Name
    Paragraphs maml description @($text[$info.Name])
    if (-not $isSwitch) {
        $w.WriteStartElement('command', 'parameterValue', $ns.command)
        $w.WriteAttributeString('required', 'true')
        $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString((TypeName $info.ParameterType))
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $ns.dev)
    Element maml name $info.ParameterType.FullName
    Element maml uri ''
    $w.WriteEndElement()
    Element dev defaultValue $(if ($defaults.ContainsKey($info.Name)) { $defaults[$info.Name] } else { 'None' })
    $w.WriteEndElement()
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')

$cmdlets = @($module.ExportedCmdlets.Keys | Sort-Object)
foreach ($name in $cmdlets) {
    if (-not $content.ContainsKey($name)) { throw "help/CircleLoss.help.psd1 has no entry for the cmdlet $name." }
    $text = $content[$name]
    $command = Get-Command -Name $name -Module $module.Name
    $parameters = @($command.Parameters.Values | Where-Object { -not $common.Contains($_.Name) } | Sort-Object Name)
    foreach ($p in $parameters) {
        if (-not $text.Parameters.ContainsKey($p.Name) -or [string]::IsNullOrWhiteSpace($text.Parameters[$p.Name])) {
            throw "help/CircleLoss.help.psd1 has no description of $name -$($p.Name)."
        }
    }
    foreach ($documented in $text.Parameters.Keys) {
        if ($documented -notin $parameters.Name) { throw "help/CircleLoss.help.psd1 describes $name -$documented, which the cmdlet does not have." }
    }

    $w.WriteStartElement('command', 'command', $ns.command)
    foreach ($prefix in 'maml', 'dev', 'MSHelp') { $w.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix]) }

    $w.WriteStartElement('command', 'details', $ns.command)
    Element command name $name
    Element command verb $command.Verb
    Element command noun $command.Noun
    Paragraphs maml description @($text.Synopsis)
    $w.WriteEndElement()

    Paragraphs maml description $text.Description

    # Syntax: one item per parameter set, the default set first, mandatory and positional parameters first.
    $w.WriteStartElement('command', 'syntax', $ns.command)
    $sets = @($command.ParameterSets | Sort-Object { -not $_.IsDefault }, Name)
    foreach ($set in $sets) {
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        Element maml name $name
        $inSet = @($set.Parameters | Where-Object { -not $common.Contains($_.Name) } |
                Sort-Object { -not $_.IsMandatory }, { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } }, Name)
        foreach ($p in $inSet) {
            $position = if ($p.Position -ge 0) { "$($p.Position)" } else { 'named' }
            Parameter $p $text.Parameters $text.Defaults $p.IsMandatory $position
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    # Parameters: each once, with the attributes it has in the sets that hold it.
    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $parameters) {
        $attributes = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        $mandatory = [bool]($attributes | Where-Object Mandatory)
        $positions = @($attributes | Where-Object { $_.Position -ge 0 } | ForEach-Object Position | Sort-Object -Unique)
        $position = if ($positions.Count) { "$($positions[0])" } else { 'named' }
        $info = [pscustomobject]@{
            Name                            = $p.Name
            ParameterType                   = $p.ParameterType
            Aliases                         = @($p.Aliases)
            ValueFromPipeline               = [bool]($attributes | Where-Object ValueFromPipeline)
            ValueFromPipelineByPropertyName = [bool]($attributes | Where-Object ValueFromPipelineByPropertyName)
        }
        Parameter $info $text.Parameters $text.Defaults $mandatory $position
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'inputTypes', $ns.command)
    foreach ($item in $text.Inputs) {
        $w.WriteStartElement('command', 'inputType', $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); Element maml name $item.Type; $w.WriteEndElement()
        Paragraphs maml description @($item.Description)
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($item in $text.Outputs) {
        $w.WriteStartElement('command', 'returnValue', $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); Element maml name $item.Type; $w.WriteEndElement()
        Paragraphs maml description @($item.Description)
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('maml', 'alertSet', $ns.maml)
    $w.WriteStartElement('maml', 'alert', $ns.maml)
    foreach ($note in $text.Notes) { Element maml para $note }
    $w.WriteEndElement()
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $ns.command)
    $index = 0
    foreach ($example in $text.Examples) {
        $index++
        $w.WriteStartElement('command', 'example', $ns.command)
        Element maml title "-------------------------- Example $($index): $($example.Title) --------------------------"
        Element dev code ($example.Code -replace "`r`n", "`n")
        $w.WriteStartElement('dev', 'remarks', $ns.dev)
        Element maml para $example.Remarks
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $text.Links) {
        $w.WriteStartElement('maml', 'navigationLink', $ns.maml)
        Element maml linkText $link
        Element maml uri ''
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteEndElement() # command:command
}

$extra = @($content.Keys | Where-Object { $_ -notin $cmdlets })
if ($extra) { throw "help/CircleLoss.help.psd1 describes cmdlets the module does not export: $($extra -join ', ')." }

$w.WriteEndElement()
$w.WriteEndDocument()
$w.Flush()
$xml = [System.Text.Encoding]::UTF8.GetString($buffer.ToArray()) + "`n"
$directory = Split-Path -Parent $OutputPath
if ($directory) { $null = New-Item -ItemType Directory -Force -Path $directory }
[System.IO.File]::WriteAllText($OutputPath, $xml, [System.Text.UTF8Encoding]::new($false))
Write-Verbose "Wrote $OutputPath"
