import { weather } from '../../catalog-data'

export default (args: { city: string }) => weather(args.city)
