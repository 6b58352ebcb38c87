# Oracle for RubyGems versions: Gem::Version#<=>. "a<TAB>b" lines in, -1/0/1 or E out.
require "rubygems"
STDOUT.sync = true
STDIN.each_line do |line|
  a, b = line.chomp.split("\t", 2)
  if a.empty? || b.empty? || !Gem::Version.correct?(a) || !Gem::Version.correct?(b)
    puts "E"
  else
    puts(Gem::Version.new(a) <=> Gem::Version.new(b))
  end
end
