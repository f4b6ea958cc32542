import input as m

scores = {"ann": 3, "bob": 5, "cy": 3, "dee": 9, "eve": 1}
print(m.rank_players(scores))
print(m.podium(scores))
print(m.podium({}))
